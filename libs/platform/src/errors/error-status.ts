import type { ErrorCode } from '@testkase/util';

/** The one place that turns an error code into an HTTP status. Exhaustive: a new code must be mapped. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
      return 400;
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'NOT_CONNECTED':
      return 404;
    case 'ALREADY_CONNECTED':
    case 'SYNCED_READ_ONLY':
    case 'CONFLICT':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'AUTH_FAILED':
    case 'TOKEN_EXPIRED':
    case 'INSUFFICIENT_SCOPE':
    case 'INSUFFICIENT_ROLE':
    case 'PROJECT_NOT_FOUND':
    case 'URL_NOT_ALLOWED':
    case 'LABEL_CREATION_FORBIDDEN':
    case 'GITLAB_REJECTED':
    case 'GITLAB_NOT_FOUND':
      return 422;
    case 'RATE_LIMITED':
      return 429;
    case 'INTERNAL':
      return 500;
    case 'INSTANCE_UNREACHABLE':
    case 'GITLAB_RESPONSE_TOO_LARGE':
      return 502;
    case 'GITLAB_UNAVAILABLE':
    case 'SERVICE_UNAVAILABLE':
      return 503;
  }
}

/** Codes for errors that did not come from our code (framework, body parser, router). */
export function codeOfHttpStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  if (status >= 400 && status < 500) return 'VALIDATION_FAILED';
  return 'INTERNAL';
}
