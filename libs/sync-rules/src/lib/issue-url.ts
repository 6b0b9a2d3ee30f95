export interface IssueWebUrl {
  /** The project's web URL, e.g. `https://gitlab.example.com/group/project`. */
  projectWebUrl: string;
  /** The issue's project-scoped IID. */
  iid: number;
}

// `/-/issues/<iid>` today, `/issues/<iid>` before GitLab 12-ish, `/-/work_items/<iid>` for work items.
const ISSUE_PATH = /^(\/.*?[^/])(?:\/-\/issues|\/issues|\/-\/work_items)\/(\d+)\/?$/;

/**
 * Splits an issue or work item web URL (a note URL with `#note_<id>` included) into the project's web
 * URL and the IID. Returns null for anything else. Credentials in the URL are dropped.
 */
export const parseIssueWebUrl = (url: string): IssueWebUrl | null => {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  const match = ISSUE_PATH.exec(parsed.pathname);
  // `-` is never a namespace or project name: it separates the project path from the route.
  if (!match || /\/-(?:\/|$)/.test(match[1])) return null;
  const iid = Number(match[2]);
  if (!Number.isSafeInteger(iid) || iid < 1) return null;
  return { projectWebUrl: `${parsed.origin}${match[1]}`, iid };
};

/** The project's web URL from an issue or work item web URL, or null when `url` is not one. */
export const projectWebUrlFromIssueUrl = (url: string): string | null =>
  parseIssueWebUrl(url)?.projectWebUrl ?? null;
