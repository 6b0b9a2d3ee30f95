import {
  htmlToMarkdown,
  inlineText,
  neutraliseQuickActions,
  normaliseUntrustedText,
} from '@testkase/sync-rules';

import { withoutMentions } from '../links/link-comment';

/** GitLab's note limit (docs/GITLAB.md, "Notes (REST)"). */
export const GITLAB_NOTE_MAX_CHARS = 1_000_000;
const CUT_NOTE = '\n\n_(The comment was cut to fit GitLab; the whole of it is in TestKase.)_';

/** The hidden marker of a note TestKase posted for a comment. */
export const commentMarker = (commentId: string): string => `<!-- testkase:comment:${commentId} -->`;
/** Any marker comment-relay writes (a TestKase comment or the linked-test-cases comment). */
export const OUR_NOTE_MARKER = /<!--\s*testkase:(?:comment:[A-Za-z0-9_.:-]{1,128}|test-cases)\s*-->/;

/** A TestKase comment's body (rich text, or Markdown) as GitLab Markdown with quick actions neutralised. */
export function commentMarkdown(body: string, format: 'html' | 'markdown'): string {
  if (format === 'html') return htmlToMarkdown(body);
  return neutraliseQuickActions(normaliseUntrustedText(body, 4 * GITLAB_NOTE_MAX_CHARS)).trim();
}

/**
 * The note comment-relay posts: who wrote it in TestKase, the body, and the marker that recognises
 * the note as ours (echoes, and a retry after a crash finds it instead of posting twice).
 */
export function noteBody(commentId: string, author: string, markdown: string): string {
  const head = `**${withoutMentions(inlineText(author, 200))}** commented in TestKase:\n\n`;
  const tail = `\n\n${commentMarker(commentId)}`;
  const room = GITLAB_NOTE_MAX_CHARS - head.length - tail.length;
  const text =
    markdown.length <= room
      ? markdown
      : `${normaliseUntrustedText(markdown, room - CUT_NOTE.length)}${CUT_NOTE}`;
  return `${head}${text}${tail}`;
}
