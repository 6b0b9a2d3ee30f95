import { createHash } from 'node:crypto';

import { inlineText, markdownLink } from '@testkase/sync-rules';

/** The hidden marker of the linked-test-cases comment (one per issue). */
export const LINK_COMMENT_MARKER = '<!-- testkase:test-cases -->';

export interface LinkedTestCase {
  readonly key: string;
  readonly title: string;
  readonly url: string;
  readonly status: string | null;
}

/** Inline text with no GitLab mention in it (`@all` would notify every member): a zero-width space follows each `@`. */
export const withoutMentions = (text: string): string => text.replace(/@/g, '@\u200b');

/**
 * The comment's Markdown: a heading, one table row per test case (key, title linking to it, latest
 * status) in the order given, and the marker. Everything TestKase sent is escaped, so no link,
 * mention, HTML or quick action can be smuggled in.
 */
export function renderLinkComment(testCases: readonly LinkedTestCase[]): string {
  const rows = testCases.map(
    (testCase) =>
      `| ${withoutMentions(inlineText(testCase.key, 100))} | ${markdownLink(withoutMentions(inlineText(testCase.title, 300)), testCase.url)} | ${
        testCase.status ? withoutMentions(inlineText(testCase.status, 50)) : '—'
      } |`,
  );
  return [
    '### Linked TestKase test cases',
    '',
    '| Test case | Title | Latest status |',
    '|---|---|---|',
    ...rows,
    '',
    `_${testCases.length} test case${testCases.length === 1 ? '' : 's'} linked in TestKase. This comment is kept up to date by TestKase; edits here are replaced._`,
    '',
    LINK_COMMENT_MARKER,
  ].join('\n');
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
