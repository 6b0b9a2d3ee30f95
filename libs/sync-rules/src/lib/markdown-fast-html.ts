import MarkdownIt from 'markdown-it';

import { LINK_REL, MAX_HTML_DEPTH, type UrlRewriter } from './html-sanitizer';

type Token = ReturnType<MarkdownIt.MarkdownIt['parse']>[number];

/**
 * Markdown that cannot hold HTML rendered straight to the sanitizer's output, without the sanitizer
 * pass (htmlparser2 and sanitize-html are most of the cost of rendering a description).
 *
 * The safe condition: the source has no `<` (so markdown-it sees no raw HTML, no autolink and no
 * HTML block: every tag comes from its own renderer) and its tokens use only the constructs below,
 * each of which the sanitizer keeps (html-sanitizer.ts's policy): paragraphs, headings, quotes,
 * lists, rules, code, emphasis, strikethrough, breaks, links and images whose URL, once rewritten,
 * is plain http(s). Anything else (tables, task lists, other URLs, deep nesting) returns null and
 * takes the full pipeline. What the sanitizer would change is done here: text is escaped as it
 * escapes it (`&`, `<`, `>`; quotes only in attributes), void elements are written ` />`, links get
 * their rewritten `href` after their other attributes and then `rel`, images their rewritten `src`
 * last. gitlab-markdown.spec.ts checks the equivalence with a property test.
 */
const renderer = (() => {
  const md = new MarkdownIt({ xhtmlOut: true });
  const rules = md.renderer.rules;
  const escapeText = (text: string): string =>
    /[&<>]/.test(text) ? text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : text;
  rules.text = (tokens, index) => escapeText(tokens[index]?.content ?? '');
  rules.code_inline = (tokens, index) => `<code>${escapeText(tokens[index]?.content ?? '')}</code>`;
  rules.code_block = (tokens, index) =>
    `<pre><code>${escapeText(tokens[index]?.content ?? '')}</code></pre>\n`;
  rules.fence = (tokens, index) => {
    const token = tokens[index];
    if (!token) return '';
    const language = (token.meta as { language?: string } | null)?.language;
    const attribute = language ? ` class="language-${language}"` : '';
    return `<pre><code${attribute}>${escapeText(token.content)}</code></pre>\n`;
  };
  return md;
})();

const HTTP_URL = /^https?:\/\/[\x21-\x7e]*$/;
/** What markdown-it's fence rule takes as the language, when the sanitizer keeps its class. */
const LANGUAGE = /^[\w+#.-]{1,64}$/;
const UNESCAPED_LANGUAGE = /[\\&]/;

const BLOCKS = new Set([
  'paragraph_open',
  'paragraph_close',
  'heading_open',
  'heading_close',
  'blockquote_open',
  'blockquote_close',
  'bullet_list_open',
  'bullet_list_close',
  'ordered_list_open',
  'ordered_list_close',
  'list_item_open',
  'list_item_close',
  'hr',
  'code_block',
  'fence',
  'inline',
]);
const INLINES = new Set([
  'text',
  'softbreak',
  'hardbreak',
  'strong_open',
  'strong_close',
  'em_open',
  'em_close',
  's_open',
  's_close',
  'code_inline',
  'link_open',
  'link_close',
  'image',
]);

const attrsAre = (token: Token, allowed: readonly string[]): boolean =>
  (token.attrs ?? []).every(([name]) => allowed.includes(name));

/** The URL as the sanitizer would keep it, or null when only the full pipeline can tell. */
const keptUrl = (raw: string, rewriteUrl: UrlRewriter): string | null => {
  const url = rewriteUrl(raw);
  return url !== null && HTTP_URL.test(url) ? url : null;
};

/** Prepares an inline token list in place; false when the fast path cannot render it. */
const inlineOk = (children: Token[], rewriteUrl: UrlRewriter, depth: number): boolean => {
  let level = depth;
  for (const token of children) {
    if (!INLINES.has(token.type)) return false;
    level += token.nesting;
    if (level > MAX_HTML_DEPTH / 2) return false;
    if (token.type === 'link_open') {
      if (!attrsAre(token, ['href', 'title'])) return false;
      const href = keptUrl(String(token.attrGet('href') ?? ''), rewriteUrl);
      if (href === null) return false;
      const title = token.attrGet('title');
      token.attrs = [
        ...(title === null ? [] : [['title', String(title)] as [string, string]]),
        ['href', href],
        ['rel', LINK_REL],
      ];
    } else if (token.type === 'image') {
      if (!attrsAre(token, ['src', 'alt', 'title'])) return false;
      const src = keptUrl(String(token.attrGet('src') ?? ''), rewriteUrl);
      if (src === null || !inlineOk(token.children ?? [], () => null, level)) return false;
      const title = token.attrGet('title');
      token.attrs = [
        ['alt', ''],
        ...(title === null ? [] : [['title', String(title)] as [string, string]]),
        ['src', src],
      ];
    } else if (token.attrs !== null && token.attrs.length > 0) {
      return false;
    }
  }
  return true;
};

/**
 * The sanitized HTML of `source` when the fast path applies (see above), else null. `parser` must
 * be the parser the full pipeline renders with, so that both read the same tokens.
 */
export function renderWithoutHtml(
  source: string,
  parser: MarkdownIt.MarkdownIt,
  rewriteUrl: UrlRewriter,
): string | null {
  if (source.includes('<')) return null;
  const tokens = parser.parse(source, {});
  let depth = 0;
  for (const token of tokens) {
    if (!BLOCKS.has(token.type)) return null;
    depth += token.nesting;
    if (depth > MAX_HTML_DEPTH / 2) return null;
    if (token.type === 'ordered_list_open') {
      if (!attrsAre(token, ['start'])) return null;
    } else if (token.type === 'fence') {
      const info = token.info.trim();
      const language = info === '' ? '' : (info.split(/\s+/)[0] ?? '');
      if (language !== '' && (!LANGUAGE.test(language) || UNESCAPED_LANGUAGE.test(info))) return null;
      token.meta = { language };
      if (token.attrs !== null && token.attrs.length > 0) return null;
    } else if (token.type === 'inline') {
      if (!inlineOk(token.children ?? [], rewriteUrl, depth)) return null;
    } else if (token.attrs !== null && token.attrs.length > 0) {
      return null;
    }
  }
  return renderer.renderer.render(tokens, renderer.options, {});
}
