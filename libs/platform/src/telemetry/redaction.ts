/**
 * What never reaches a log line: credentials in headers, bodies and error objects.
 * Paths follow pino's redact syntax (fast-redact); `*` matches one level.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["private-token"]',
  'req.headers["x-gitlab-token"]',
  'req.headers["webhook-signature"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["private-token"]',
  'headers["x-gitlab-token"]',
  'token',
  'secret',
  'password',
  'signingToken',
  'webhookSecret',
  'accessToken',
  '*.token',
  '*.secret',
  '*.password',
  '*.signingToken',
  '*.webhookSecret',
  '*.accessToken',
  '*.privateToken',
  '*.caCertificate',
  '*.*.token',
  '*.*.secret',
];

/** GitLab token shapes (personal, project, group, OAuth, deploy, runner, feed, CI job) and `whsec_` keys. */
const TOKEN_PATTERN =
  /\b(gl(?:pat|dt|rt|ft|oas|cbt|imt|ptt|agent|soat|ffct|sst)-[A-Za-z0-9_.-]{8,}|whsec_[A-Za-z0-9+/=]{16,})/g;

/** Replaces anything that looks like a GitLab token inside free text. */
export function scrubSecrets(text: string): string {
  return text.replace(
    TOKEN_PATTERN,
    (match) => `${match.slice(0, match.indexOf(match.startsWith('whsec_') ? '_' : '-') + 1)}[REDACTED]`,
  );
}
