import MarkdownIt from 'markdown-it';
import taskLists from 'markdown-it-task-lists';

/**
 * A CommonMark + GFM parser close to GitLab's: raw HTML allowed (when `html`), bare URLs linked,
 * tables, strikethrough and task lists. Soft line breaks stay soft, as on GitLab. markdown-it's own
 * limit of 100 nesting levels bounds deeply nested quotes, lists and emphasis.
 */
export const createMarkdownParser = (options: { html: boolean }): MarkdownIt.MarkdownIt =>
  new MarkdownIt({ html: options.html, linkify: true }).use(taskLists);
