import { ValidationError } from '@testkase/util';

import { sanitizeRichHtml, UrlRewriter } from './html-sanitizer';
import { renderWithoutHtml } from './markdown-fast-html';
import { createMarkdownParser } from './markdown-parser';
import { GITLAB_DESCRIPTION_MAX_CHARS, normaliseUntrustedText } from './untrusted-text';

export interface RenderGitlabMarkdownOptions {
  /** The project's web URL (`web_url` of the project), against which relative links are resolved. */
  projectWebUrl: string;
}

const withHtml = createMarkdownParser({ html: true });
const withoutHtml = createMarkdownParser({ html: false });

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// Browsers ignore these inside URLs, so "java\tscript:" is still a scheme.
const IGNORED_IN_URLS = /[\u0000-\u0020\u007f]/g; // eslint-disable-line no-control-regex

const projectBaseUrl = (projectWebUrl: string): string => {
  let url: URL;
  try {
    url = new URL(projectWebUrl);
  } catch {
    throw new ValidationError('projectWebUrl must be an absolute http(s) URL.', { field: 'projectWebUrl' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ValidationError('projectWebUrl must be an absolute http(s) URL.', { field: 'projectWebUrl' });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/`;
};

/**
 * GitLab serves uploads under `<project web_url>/uploads/<hash>/<file>` but writes them as
 * `/uploads/<hash>/<file>`; other relative URLs resolve against the project URL as a browser would.
 */
const projectUrlResolver =
  (base: string): UrlRewriter =>
  (raw) => {
    const url = raw.trim();
    if (url === '' || url.startsWith('#')) return url;
    const compact = url.replace(IGNORED_IN_URLS, '');
    if (URL_SCHEME.test(compact)) return url; // absolute: the sanitizer decides on the scheme
    const relative = compact.startsWith('/uploads/') ? compact.slice(1) : url;
    try {
      return new URL(relative, base).href;
    } catch {
      return null;
    }
  };

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * Renders a GitLab Flavored Markdown description or note as sanitized HTML for TestKase.
 * null/undefined give ''. Input beyond GitLab's 1,048,576-character maximum is cut off, lone
 * surrogates become U+FFFD and NUL characters are removed. Raw HTML that nests too deep to parse in
 * reasonable time is shown as text instead. GitLab-only syntax (references such as #12 or @user,
 * `>>>` quotes, math, diagrams) renders as plain text.
 *
 * @throws ValidationError when `projectWebUrl` is not an absolute http(s) URL.
 */
export const renderGitlabMarkdown = (
  markdown: string | null | undefined,
  options: RenderGitlabMarkdownOptions,
): string => render(markdown, options, true);

/**
 * The full pipeline alone (markdown-it, then the sanitizer), without the fast path: what
 * gitlab-markdown.spec.ts compares the fast path with.
 */
export const renderGitlabMarkdownFully = (
  markdown: string | null | undefined,
  options: RenderGitlabMarkdownOptions,
): string => render(markdown, options, false);

const render = (
  markdown: string | null | undefined,
  options: RenderGitlabMarkdownOptions,
  fastPath: boolean,
): string => {
  const rewriteUrl = projectUrlResolver(projectBaseUrl(options.projectWebUrl));
  const source = normaliseUntrustedText(markdown, GITLAB_DESCRIPTION_MAX_CHARS);
  if (source.trim() === '') return '';
  // Markdown that cannot hold HTML: the sanitizer's output without its pass (markdown-fast-html.ts).
  const fast = fastPath ? renderWithoutHtml(source, withHtml, rewriteUrl) : null;
  return fast ?? fullPipeline(source, rewriteUrl);
};

const fullPipeline = (source: string, rewriteUrl: UrlRewriter): string =>
  sanitizeRichHtml(withHtml.render(source), { rewriteUrl }) ??
  sanitizeRichHtml(withoutHtml.render(source), { rewriteUrl }) ??
  `<p>${escapeHtml(source)}</p>`;
