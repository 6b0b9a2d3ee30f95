import path from 'node:path';

/**
 * Where the .proto files are: libs/contracts/proto in the source tree, and the same place relative
 * to the compiled output (the build copies them to dist/libs/contracts/proto). Each file sits in the
 * directory of its package (buf's PACKAGE_DIRECTORY_MATCH; buf.yaml at the repository root).
 */
export const PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');

const protoOf = (name: string, file: string) => path.join(PROTO_DIR, 'testkase', 'gitlab', name, 'v1', file);

export const GRPC_SERVICES = {
  connection: {
    package: 'testkase.gitlab.connection.v1',
    service: 'ConnectionService',
    protoPath: protoOf('connection', 'connection.proto'),
  },
  comments: {
    package: 'testkase.gitlab.comments.v1',
    service: 'CommentService',
    protoPath: protoOf('comments', 'comments.proto'),
  },
  defects: {
    package: 'testkase.gitlab.defects.v1',
    service: 'DefectService',
    protoPath: protoOf('defects', 'defects.proto'),
  },
  requirements: {
    package: 'testkase.gitlab.requirements.v1',
    service: 'RequirementService',
    protoPath: protoOf('requirements', 'requirements.proto'),
  },
} as const;

export type GrpcServiceName = keyof typeof GRPC_SERVICES;
