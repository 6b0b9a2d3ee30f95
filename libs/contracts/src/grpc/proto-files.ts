import path from 'node:path';

/**
 * Where the .proto files are: libs/contracts/proto in the source tree, and the same place relative
 * to the compiled output (the build copies them to dist/libs/contracts/proto).
 */
const PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');

export const GRPC_SERVICES = {
  connection: {
    package: 'testkase.gitlab.connection.v1',
    service: 'ConnectionService',
    protoPath: path.join(PROTO_DIR, 'connection.proto'),
  },
  comments: {
    package: 'testkase.gitlab.comments.v1',
    service: 'CommentService',
    protoPath: path.join(PROTO_DIR, 'comments.proto'),
  },
  defects: {
    package: 'testkase.gitlab.defects.v1',
    service: 'DefectService',
    protoPath: path.join(PROTO_DIR, 'defects.proto'),
  },
  requirements: {
    package: 'testkase.gitlab.requirements.v1',
    service: 'RequirementService',
    protoPath: path.join(PROTO_DIR, 'requirements.proto'),
  },
} as const;
