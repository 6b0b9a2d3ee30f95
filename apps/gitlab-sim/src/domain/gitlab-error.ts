/**
 * An answer GitLab gives with a non-2xx status, in one of GitLab's body shapes
 * (docs/GITLAB.md, "Errors and status codes"). Thrown anywhere below the routes; the API's error
 * handler writes it as is.
 */
export class GitlabError extends Error {
  constructor(
    readonly status: number,
    /** JSON body, or a plain-text body (Rack::Attack's `Retry later`). */
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.name = 'GitlabError';
  }

  /** `not_found!('Project')` → `404 Project Not Found`; without a resource, the generic `RecordNotFound` text. */
  static notFound(resource?: string): GitlabError {
    return new GitlabError(404, { message: resource ? `404 ${resource} Not Found` : '404 Not found' });
  }

  /** Grape's answer for a path that matches no route. */
  static routeNotFound(): GitlabError {
    return new GitlabError(404, { error: '404 Not Found' });
  }

  static forbidden(reason?: string): GitlabError {
    return new GitlabError(403, { message: reason ? `403 Forbidden - ${reason}` : '403 Forbidden' });
  }

  static unauthorized(): GitlabError {
    return new GitlabError(401, { message: '401 Unauthorized' });
  }

  /** `bad_request!(reason)`. */
  static badRequest(reason: string): GitlabError {
    return new GitlabError(400, { message: `400 Bad request - ${reason}` });
  }

  /** Grape: a required parameter is absent. */
  static missing(param: string): GitlabError {
    return new GitlabError(400, { error: `${param} is missing` });
  }

  /** Grape: a parameter does not coerce to its type. */
  static invalid(param: string): GitlabError {
    return new GitlabError(400, { error: `${param} is invalid` });
  }

  /** Grape: a parameter is outside its `values:` list. */
  static notInValues(param: string): GitlabError {
    return new GitlabError(400, { error: `${param} does not have a valid value` });
  }

  /** A model validation error: `{"message": {"field": ["…"]}}`. */
  static validation(errors: Record<string, string[]>): GitlabError {
    return new GitlabError(400, { message: errors });
  }

  static conflict(message: string): GitlabError {
    return new GitlabError(409, { message });
  }

  /** Hook create/update failures: `{"error": "Invalid url given"}`. */
  static unprocessable(error: string): GitlabError {
    return new GitlabError(422, { error });
  }

  static methodNotAllowed(error: string): GitlabError {
    return new GitlabError(405, { error });
  }
}

/**
 * rack-oauth2's answers for tokens that exist but may not be used (lib/api/api_guard.rb,
 * `oauth2_bearer_token_error_handler`). 401s carry `WWW-Authenticate: Bearer realm=…, error=…`.
 */
export const OAUTH_DEFAULT_REALM = 'Protected by OAuth 2.0';

function bearerChallenge(error: string, description: string): string {
  return `Bearer realm="${OAUTH_DEFAULT_REALM}", error="${error}", error_description="${description}"`;
}

export function invalidTokenError(description: string): GitlabError {
  return new GitlabError(
    401,
    { error: 'invalid_token', error_description: description },
    { 'www-authenticate': bearerChallenge('invalid_token', description) },
  );
}

export const TOKEN_EXPIRED_DESCRIPTION =
  'Token is expired. You can either do re-authorization or token refresh.';
export const TOKEN_REVOKED_DESCRIPTION = 'Token was revoked. You have to re-authorize from the user.';
export const INSUFFICIENT_SCOPE_DESCRIPTION =
  'The request requires higher privileges than provided by the access token.';

/** 403; rack-oauth2's Forbidden carries no WWW-Authenticate header (GitLab's own FIXME says so). */
export function insufficientScopeError(allowedScopes: readonly string[]): GitlabError {
  return new GitlabError(403, {
    error: 'insufficient_scope',
    error_description: INSUFFICIENT_SCOPE_DESCRIPTION,
    scope: allowedScopes.join(' '),
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `render_api_error!('<status> <text>', status)`: the body GitLab gives a bare status (`{"message":"503 Service Unavailable"}`). */
export const statusMessageBody = (status: number): { message: string } => ({
  message: `${status} ${STATUS_TEXT[status] ?? 'Error'}`,
});
