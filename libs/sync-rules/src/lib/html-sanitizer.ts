import sanitizeHtml from 'sanitize-html';

/**
 * How deep the HTML parser's stack of open elements may grow. htmlparser2 (inside sanitize-html)
 * keeps that stack with Array#unshift, so each open element costs O(depth) and a few hundred KB of
 * unclosed tags would take minutes (fb55/htmlparser2#2481). Browsers stop nesting at 512 as well.
 */
export const MAX_HTML_DEPTH = 512;

/** A URL in an `href` or `src` rewritten, or null to drop the attribute. */
export type UrlRewriter = (url: string) => string | null;

export const LINK_REL = 'noopener noreferrer nofollow';

// prettier-ignore
const ALLOWED_TAGS = [
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'pre', 'code', 'kbd', 'samp', 'var',
  'em', 'i', 'strong', 'b', 'u', 's', 'del', 'ins', 'strike', 'sub', 'sup', 'mark', 'small', 'abbr', 'q',
  'cite', 'dfn', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'table', 'caption', 'colgroup', 'col', 'thead', 'tbody',
  'tfoot', 'tr', 'th', 'td', 'a', 'img', 'input', 'details', 'summary', 'span', 'div', 'figure', 'figcaption',
  'ruby', 'rt', 'rp', 'wbr',
];

/** Tags dropped together with everything inside them (the rest keep their text). */
// prettier-ignore
const NON_TEXT_TAGS = [
  'script', 'style', 'textarea', 'option', 'select', 'xmp', 'noscript', 'noembed', 'noframes', 'iframe',
  'frame', 'object', 'embed', 'applet', 'svg', 'math', 'template', 'title', 'head', 'button',
];

const TASK_CHECKBOX = 'task-list-item-checkbox';

// sanitize-html writes every attribute as name="value" and escapes ">" inside values, so these match
// exactly the inputs that are not checkboxes and the images whose src was refused. They are removed
// afterwards because its exclusiveFilter rebuilds the whole output for each removal (quadratic).
const NON_CHECKBOX_INPUT = /<input\b(?![^>]*\stype="checkbox")[^>]*>/g;
const IMAGE_WITHOUT_SOURCE = /<img\b(?![^>]*\ssrc=")[^>]*>/g;
const TEXT_ALIGN = /(?:^|;)\s*text-align\s*:\s*(left|right|center)\s*(?:;|$)/i;

class HtmlTooDeep extends Error {}

const rewriteAttribute = (
  attribs: sanitizeHtml.Attributes,
  name: string,
  rewriteUrl: UrlRewriter | undefined,
): sanitizeHtml.Attributes => {
  const value = attribs[name];
  if (rewriteUrl === undefined || value === undefined) return attribs;
  const rewritten = rewriteUrl(value);
  const { [name]: _dropped, ...others } = attribs;
  return rewritten === null ? others : { ...others, [name]: rewritten };
};

/** markdown-it aligns table cells with `style`, which is not allowed; `align` says the same. */
const alignCell = (tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag => {
  const align = TEXT_ALIGN.exec(attribs['style'] ?? '')?.[1]?.toLowerCase();
  return { tagName, attribs: align ? { ...attribs, align } : attribs };
};

export interface SanitizeRichHtmlOptions {
  rewriteUrl?: UrlRewriter;
  /** Elements nested deeper than this are dropped and their text kept. */
  nestingLimit?: number;
}

const policy = (
  { rewriteUrl, nestingLimit }: SanitizeRichHtmlOptions,
  onOpenTag: () => void,
  onCloseTag: () => void,
) =>
  ({
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'title', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height'],
      input: [{ name: 'type', values: ['checkbox'] }, 'checked', 'disabled'],
      ol: ['start', 'reversed'],
      td: ['colspan', 'rowspan', { name: 'align', values: ['left', 'right', 'center'] }],
      th: ['colspan', 'rowspan', { name: 'align', values: ['left', 'right', 'center'] }],
      col: ['span'],
      colgroup: ['span'],
      abbr: ['title'],
      details: ['open'],
    },
    allowedClasses: {
      code: [/^language-[\w+#.-]{1,64}$/],
      ul: ['contains-task-list'],
      ol: ['contains-task-list'],
      li: ['task-list-item'],
      input: [TASK_CHECKBOX],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['http', 'https'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: true,
    nonTextTags: NON_TEXT_TAGS,
    disallowedTagsMode: 'discard',
    transformTags: {
      a: (tagName, attribs) => ({
        tagName,
        attribs: { ...rewriteAttribute(attribs, 'href', rewriteUrl), rel: LINK_REL },
      }),
      img: (tagName, attribs) => ({ tagName, attribs: rewriteAttribute(attribs, 'src', rewriteUrl) }),
      td: alignCell,
      th: alignCell,
      // Task list checkboxes are shown, never edited.
      input: (tagName, attribs) => ({ tagName, attribs: { ...attribs, class: TASK_CHECKBOX, disabled: '' } }),
    },
    nestingLimit,
    onOpenTag,
    onCloseTag,
  }) satisfies sanitizeHtml.IOptions;

/**
 * Reduces HTML to a safe subset: text formatting, headings, lists and task lists, tables, code,
 * quotes, links (with rel="noopener noreferrer nofollow") and images, with http(s)/mailto/tel URLs
 * only. Scripts, styles, event handlers, frames, objects, SVG and forms go, and so does every
 * attribute not listed here. `rewriteUrl` may rewrite or drop each href and src first. A link
 * whose URL is refused stays as an inert <a> without href.
 *
 * Returns null, without spending the time, when the elements nest deeper than MAX_HTML_DEPTH.
 */
export const sanitizeRichHtml = (html: string, options: SanitizeRichHtmlOptions = {}): string | null => {
  let depth = 0;
  const sanitizeOptions = policy(
    options,
    () => {
      depth += 1;
      if (depth > MAX_HTML_DEPTH) throw new HtmlTooDeep();
    },
    () => {
      depth -= 1;
    },
  );
  try {
    return sanitizeHtml(html, sanitizeOptions)
      .replace(NON_CHECKBOX_INPUT, '')
      .replace(IMAGE_WITHOUT_SOURCE, '');
  } catch (error) {
    if (error instanceof HtmlTooDeep) return null;
    throw error;
  }
};
