import { renderGitlabMarkdown } from '@testkase/sync-rules';

/** Descriptions longer than this are rendered every time (a few large ones must not evict many). */
const MAX_CACHED_CHARS = 16_384;
/** Upper bound of the cache, in characters of Markdown and HTML together (about 16 MiB of strings). */
const BUDGET_CHARS = 8_000_000;

const cache = new Map<string, string>();
let cachedChars = 0;

/**
 * Sanitized HTML of a description, from a small LRU cache when the same Markdown (for the same
 * project) was rendered lately: most issue events and every reconciliation pass carry an unchanged
 * description, and rendering is the costliest part of mapping an issue.
 */
export function descriptionHtml(markdown: string, projectWebUrl: string): string {
  if (markdown.length > MAX_CACHED_CHARS) return renderGitlabMarkdown(markdown, { projectWebUrl });
  const key = `${projectWebUrl}\n${markdown}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const html = renderGitlabMarkdown(markdown, { projectWebUrl });
  cache.set(key, html);
  cachedChars += key.length + html.length;
  for (const [oldKey, oldHtml] of cache) {
    if (cachedChars <= BUDGET_CHARS) break;
    cache.delete(oldKey);
    cachedChars -= oldKey.length + oldHtml.length;
  }
  return html;
}
