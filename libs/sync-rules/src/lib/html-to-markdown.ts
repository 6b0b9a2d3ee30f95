import TurndownService from 'turndown';
import { gfm } from 'turndown-plugin-gfm';

import { sanitizeRichHtml } from './html-sanitizer';
import { neutraliseQuickActions } from './quick-actions';
import { GITLAB_DESCRIPTION_MAX_CHARS, normaliseUntrustedText } from './untrusted-text';

/**
 * The most HTML read; anything beyond it is cut off, not rejected. Markdown is shorter than the HTML
 * it comes from, so this still gives more than a GitLab description can hold.
 */
export const HTML_TO_MARKDOWN_MAX_CHARS = 2 * GITLAB_DESCRIPTION_MAX_CHARS;

/**
 * Turndown's work grows with nesting depth times document size, so elements deeper than this are
 * flattened to their text. Rich text from an editor stays far shallower.
 */
const MAX_CONVERTED_DEPTH = 32;

const turndown = new TurndownService({
  headingStyle: 'atx',
  hr: '---',
  bulletListMarker: '-',
  codeBlockStyle: 'fenced',
  fence: '```',
  emDelimiter: '_',
  strongDelimiter: '**',
  linkStyle: 'inlined',
});
turndown.use(gfm);
// The plugin writes ~single~ tildes; GitLab documents ~~double~~ ones.
turndown.addRule('strikethrough', {
  filter: ['del', 's', 'strike'],
  replacement: (content) => `~~${content}~~`,
});

const TAG = /<[^>]*>?/g;

/** HTML nested too deep to parse in reasonable time keeps only its text. */
const textOnly = (html: string): string =>
  turndown.escape(
    html
      .replace(TAG, ' ')
      .replace(/[ \t]+/g, ' ')
      .trim(),
  );

/**
 * Converts a TestKase rich-text (HTML) defect description to GitLab Flavored Markdown: headings,
 * emphasis, lists and task lists, tables, strikethrough, code blocks with their language, quotes,
 * links and images. The HTML is sanitized first with the same policy as renderGitlabMarkdown, and
 * lines GitLab would run as quick actions are escaped (see neutraliseQuickActions).
 * null/undefined give ''.
 */
export const htmlToMarkdown = (html: string | null | undefined): string => {
  const source = normaliseUntrustedText(html, HTML_TO_MARKDOWN_MAX_CHARS);
  if (source.trim() === '') return '';
  const clean = sanitizeRichHtml(source, { nestingLimit: MAX_CONVERTED_DEPTH });
  return neutraliseQuickActions(clean === null ? textOnly(source) : turndown.turndown(clean));
};
