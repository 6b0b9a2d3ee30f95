/** `18.6.0`, `15.4.6-ee`, `8.13.0-pre`: what `GET /version` answers and the simulator may claim. */
export const GITLAB_VERSION_PATTERN = /^\d+\.\d+\.\d+(-[\w.]+)?$/;

/** A GitLab feature that appeared in a release: `[major, minor]`. */
export type Release = readonly [major: number, minor: number];

/**
 * Releases the simulator's answers depend on (docs/GITLAB.md, "Older GitLab versions"):
 * `GET /personal_access_tokens` (13.3), `GET /personal_access_tokens/:id` (15.1; 404 for admins
 * asking about a missing id from 15.3), `GET /metadata` (15.2), `GET /personal_access_tokens/self` (15.5).
 */
export const RELEASES = {
  tokenList: [13, 3],
  tokenById: [15, 1],
  tokenByIdAdminNotFound: [15, 3],
  metadata: [15, 2],
  tokenSelf: [15, 5],
} as const satisfies Record<string, Release>;

/** Whether `version` (as GITLAB_VERSION_PATTERN) is `release` or later. */
export function isAtLeast(version: string, [major, minor]: Release): boolean {
  const [ownMajor = 0, ownMinor = 0] = version.split(/[.-]/).map(Number);
  return ownMajor > major || (ownMajor === major && ownMinor >= minor);
}
