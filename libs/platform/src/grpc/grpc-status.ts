import { status as GrpcStatus } from '@grpc/grpc-js';

import type { ErrorCode } from '@testkase/util';

/** The gRPC twin of httpStatusOf: one exhaustive mapping from our codes to gRPC status codes. */
export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'UNSUPPORTED_MEDIA_TYPE':
      return GrpcStatus.INVALID_ARGUMENT;
    case 'UNAUTHENTICATED':
      return GrpcStatus.UNAUTHENTICATED;
    case 'FORBIDDEN':
      return GrpcStatus.PERMISSION_DENIED;
    case 'NOT_FOUND':
    case 'NOT_CONNECTED':
      return GrpcStatus.NOT_FOUND;
    case 'ALREADY_CONNECTED':
      return GrpcStatus.ALREADY_EXISTS;
    case 'CONFLICT':
      return GrpcStatus.ABORTED;
    case 'SYNCED_READ_ONLY':
    case 'AUTH_FAILED':
    case 'TOKEN_EXPIRED':
    case 'INSUFFICIENT_SCOPE':
    case 'INSUFFICIENT_ROLE':
    case 'PROJECT_NOT_FOUND':
    case 'URL_NOT_ALLOWED':
    case 'LABEL_CREATION_FORBIDDEN':
    case 'GITLAB_REJECTED':
    case 'GITLAB_NOT_FOUND':
    case 'GITLAB_RESPONSE_TOO_LARGE':
      return GrpcStatus.FAILED_PRECONDITION;
    case 'PAYLOAD_TOO_LARGE':
    case 'RATE_LIMITED':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'INSTANCE_UNREACHABLE':
    case 'GITLAB_UNAVAILABLE':
    case 'SERVICE_UNAVAILABLE':
      return GrpcStatus.UNAVAILABLE;
    case 'INTERNAL':
      return GrpcStatus.INTERNAL;
  }
}
