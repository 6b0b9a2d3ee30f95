import { renderGitlabMarkdown } from '@testkase/sync-rules';
import { BoundedLru, ENTRY_OVERHEAD_BYTES, stringBytes } from '@testkase/util';

/** Descriptions longer than this are rendered every time (a few large ones must not evict many). */
const MAX_CACHED_CHARS = 16_384;

/**
 * The cache's bounds (docs/RUNBOOK.md, "Memory"): the descriptions of the issues edited lately, not
 * of every issue a backfill went through. 5,000 typical descriptions; at most 4 MiB of strings.
 */
export const DESCRIPTION_CACHE_BOUNDS = { maxEntries: 5_000, maxBytes: 4 * 1024 * 1024 } as const;

const cache = new BoundedLru<string, string>({
  ...DESCRIPTION_CACHE_BOUNDS,
  sizeOf: (key, html) => stringBytes(key) + stringBytes(html) + ENTRY_OVERHEAD_BYTES,
});

/**
 * Sanitized HTML of a description, from a small LRU cache when the same Markdown (for the same
 * project) was rendered lately: most issue events and every reconciliation pass carry an unchanged
 * description, and rendering is the costliest part of mapping an issue.
 */
export function descriptionHtml(markdown: string, projectWebUrl: string): string {
  if (markdown.length > MAX_CACHED_CHARS) return renderGitlabMarkdown(markdown, { projectWebUrl });
  const key = `${projectWebUrl}\n${markdown}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const html = renderGitlabMarkdown(markdown, { projectWebUrl });
  cache.set(key, html);
  return html;
}

/** Entries and estimated bytes the cache holds (tests, metrics). */
export const descriptionCacheUsage = (): { entries: number; bytes: number } => ({
  entries: cache.size,
  bytes: cache.bytes,
});
