import { ValidationError } from '@testkase/util';

import { renderGitlabMarkdown } from './gitlab-markdown';
import { GITLAB_DESCRIPTION_MAX_CHARS } from './untrusted-text';

const PROJECT = 'https://gitlab.example.com/group/project';
const render = (markdown: string | null | undefined): string =>
  renderGitlabMarkdown(markdown, { projectWebUrl: PROJECT });
const LARGE_INPUT_TIMEOUT_MS = 60_000;
const REL = 'rel="noopener noreferrer nofollow"';
/** A link whose URL was refused: text in an <a> without href, which goes nowhere. */
const INERT_LINK = `<p><a ${REL}>x</a></p>\n`;

const ALLOWED_ATTRIBUTES = new Set([
  'href',
  'src',
  'alt',
  'title',
  'rel',
  'class',
  'type',
  'checked',
  'disabled',
  'align',
  'start',
  'open',
]);

const FORBIDDEN_TAG =
  /<\s*\/?\s*(script|style|iframe|frame|object|embed|svg|math|form|button|meta|base|link|noscript|template)\b/i;
const TAG = /<[a-z][a-z0-9]*([^>]*)>/gi;
const ATTRIBUTE = /[\s/]([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
const SAFE_URL = /^(https?:\/\/|mailto:|tel:|#)/;

/** What must never reach a TestKase page, whatever the input: the problems found, none expected. */
const unsafeParts = (html: string): string[] => {
  const problems: string[] = [];
  if (FORBIDDEN_TAG.test(html)) problems.push(`forbidden tag ${FORBIDDEN_TAG.exec(html)?.[0]}`);
  for (const [, attributes] of html.matchAll(TAG)) {
    for (const [, name, doubleQuoted, singleQuoted, unquoted] of attributes.matchAll(ATTRIBUTE)) {
      const value = doubleQuoted ?? singleQuoted ?? unquoted ?? '';
      if (!ALLOWED_ATTRIBUTES.has(name.toLowerCase())) problems.push(`attribute ${name}`);
      if (/^(href|src)$/i.test(name) && !SAFE_URL.test(value)) problems.push(`${name}=${value}`);
    }
  }
  if (!html.isWellFormed()) problems.push('lone surrogate');
  if (html.includes('\u0000')) problems.push('NUL');
  return problems;
};

const expectSafe = (html: string): void => {
  expect(unsafeParts(html)).toEqual([]);
};

describe('renderGitlabMarkdown', () => {
  it.each([
    ['null', null, ''],
    ['undefined', undefined, ''],
    ['an empty description', '', ''],
    ['a heading', '## Heading', '<h2>Heading</h2>\n'],
    ['emphasis', '**bold** _it_ ~~gone~~', '<p><strong>bold</strong> <em>it</em> <s>gone</s></p>\n'],
    ['soft line breaks as GitLab does', 'line one\nline two', '<p>line one\nline two</p>\n'],
    ['a hard line break', 'a  \nb', '<p>a<br />\nb</p>\n'],
    [
      'a task list with read-only checkboxes',
      '- [ ] todo\n- [x] done',
      '<ul class="contains-task-list">\n' +
        '<li class="task-list-item"><input class="task-list-item-checkbox" disabled type="checkbox" /> todo</li>\n' +
        '<li class="task-list-item"><input class="task-list-item-checkbox" checked disabled type="checkbox" /> done</li>\n' +
        '</ul>\n',
    ],
    [
      'a table with aligned columns',
      '| a | b | c |\n|:--|--:|:-:|\n| 1 | 2 | 3 |',
      '<table>\n<thead>\n<tr>\n<th align="left">a</th>\n<th align="right">b</th>\n<th align="center">c</th>\n</tr>\n</thead>\n' +
        '<tbody>\n<tr>\n<td align="left">1</td>\n<td align="right">2</td>\n<td align="center">3</td>\n</tr>\n</tbody>\n</table>\n',
    ],
    [
      'a code block with its language',
      '```ruby\nputs 1\n```',
      '<pre><code class="language-ruby">puts 1\n</code></pre>\n',
    ],
    ['a quote', '> quoted', '<blockquote>\n<p>quoted</p>\n</blockquote>\n'],
    [
      'collapsible HTML',
      '<details><summary>More</summary>hidden</details>',
      '<details><summary>More</summary>hidden</details>',
    ],
    [
      'an absolute link',
      '[site](https://example.com)',
      `<p><a href="https://example.com" ${REL}>site</a></p>\n`,
    ],
    [
      'a bare URL',
      'see https://example.com/a',
      `<p>see <a href="https://example.com/a" ${REL}>https://example.com/a</a></p>\n`,
    ],
    [
      'a mail link',
      '<a href="mailto:a@b.example">mail</a>',
      `<p><a href="mailto:a@b.example" ${REL}>mail</a></p>\n`,
    ],
    ['an in-page anchor', '[top](#top)', `<p><a href="#top" ${REL}>top</a></p>\n`],
    [
      'an uploaded image',
      '![shot](/uploads/0123abcd/shot.png)',
      `<p><img alt="shot" src="${PROJECT}/uploads/0123abcd/shot.png" /></p>\n`,
    ],
    [
      'an uploaded file link',
      '[log](/uploads/0123abcd/build.log)',
      `<p><a href="${PROJECT}/uploads/0123abcd/build.log" ${REL}>log</a></p>\n`,
    ],
    [
      'a relative link',
      '[readme](docs/readme.md)',
      `<p><a href="${PROJECT}/docs/readme.md" ${REL}>readme</a></p>\n`,
    ],
    [
      'a root-relative link',
      '[other](/other-group/other-project)',
      `<p><a href="https://gitlab.example.com/other-group/other-project" ${REL}>other</a></p>\n`,
    ],
    ['a hidden defect marker', '<!-- testkase:defect:d-1 -->\nBody', '\n<p>Body</p>\n'],
  ])('renders %s', (_case, markdown, html) => {
    expect(render(markdown)).toBe(html);
  });

  it.each([PROJECT, `${PROJECT}/`, `${PROJECT}//`, `${PROJECT}?tab=issues`])(
    'resolves uploads the same against %s',
    (projectWebUrl) => {
      expect(renderGitlabMarkdown('![a](/uploads/f00/a.png)', { projectWebUrl })).toBe(
        `<p><img alt="a" src="${PROJECT}/uploads/f00/a.png" /></p>\n`,
      );
    },
  );

  it.each(['', 'group/project', 'ftp://gitlab.example.com/group/project', 'javascript:alert(1)'])(
    'refuses the project URL %j',
    (projectWebUrl) => {
      expect(() => renderGitlabMarkdown('text', { projectWebUrl })).toThrow(ValidationError);
    },
  );

  it.each([
    ['a script', '<script>alert(1)</script>', ''],
    ['an onerror image', '<img src=x onerror=alert(1)>', `<img src="${PROJECT}/x" />`],
    ['a javascript: link', '[x](javascript:alert(1))', '<p>[x](javascript:alert(1))</p>\n'],
    ['a mixed-case javascript: link', '[x](JaVaScRiPt:alert(1))', '<p>[x](JaVaScRiPt:alert(1))</p>\n'],
    ['an entity-encoded javascript: link', '<a href="&#106;avascript:alert(1)">x</a>', INERT_LINK],
    ['a hex-entity javascript: link', '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>', INERT_LINK],
    ['a javascript: link split by a tab', '<a href="java\tscript:alert(1)">x</a>', INERT_LINK],
    ['a javascript: link with leading space', '<a href=" javascript:alert(1)">x</a>', INERT_LINK],
    ['a vbscript: link', '<a href="vbscript:msgbox(1)">x</a>', INERT_LINK],
    ['a data: link', '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', INERT_LINK],
    ['a data: image', '![x](data:image/png;base64,AAAA)', '<p></p>\n'],
    ['an iframe', '<iframe src="https://evil.example"></iframe>', ''],
    ['an svg with onload', '<svg onload=alert(1)>', ''],
    ['object and embed', '<object data="x.swf"></object><embed src="x.swf">', '<p></p>\n'],
    [
      'style sheets and style attributes',
      '<style>p{display:none}</style><p style="position:fixed">x</p>',
      '<p>x</p>',
    ],
    [
      'an event handler on a link',
      '<a href="https://example.com" onmouseover="alert(1)">x</a>',
      `<p><a href="https://example.com" ${REL}>x</a></p>\n`,
    ],
    ['unclosed nested HTML', '<div><b>unclosed <i>nested', '<div><b>unclosed <i>nested</i></b></div>'],
    [
      'a noscript breakout',
      '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
      '<p></p>\n',
    ],
    ['a comment breakout', '<!--><img src=x onerror=alert(1)>-->', `<img src="${PROJECT}/x" />--&gt;`],
    [
      'a form',
      '<form action="https://evil.example"><button formaction="javascript:alert(1)">Go</button></form>',
      '',
    ],
    ['a text input', '<input type="text" autofocus onfocus="alert(1)">', ''],
    [
      'a srcset',
      '<img src="/uploads/f/x.png" srcset="javascript:alert(1)">',
      `<img src="${PROJECT}/uploads/f/x.png" />`,
    ],
  ])('neutralises %s', (_case, markdown, html) => {
    const rendered = render(markdown);
    expect(rendered).toBe(html);
    expectSafe(rendered);
  });

  it.each([
    ['a meta refresh', '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'],
    ['a base URL', '<base href="javascript:/">[x](y)'],
    ['MathML with a link', '<math><mi xlink:href="javascript:alert(1)">x</mi></math>'],
    ['a details toggle handler', '<details open ontoggle=alert(1)><summary>s</summary></details>'],
    ['an autolink to javascript:', '<javascript:alert(1)>'],
    ['a reference link to javascript:', '[x][r]\n\n[r]: javascript:alert(1)'],
    ['an image link to javascript:', '![x](javascript:alert(1))'],
    ['a link with an HTML title breakout', '[x](https://example.com "a\\" onmouseover=\\"alert(1)")'],
    ['a code span holding HTML', '`<script>alert(1)</script>`'],
  ])('keeps %s safe', (_case, markdown) => {
    expectSafe(render(markdown));
  });

  it.each([
    ['deeply nested quotes', () => '>'.repeat(50_000)],
    ['deeply nested lists', () => `${'- '.repeat(50_000)}x`],
    ['a run of emphasis markers', () => '*'.repeat(100_000)],
    ['alternating emphasis markers', () => '_*'.repeat(500_000)],
    ['a run of opening brackets', () => '['.repeat(100_000)],
    ['a megabyte of opening brackets', () => '['.repeat(GITLAB_DESCRIPTION_MAX_CHARS)],
    ['a run of unfinished links', () => '[a]('.repeat(200_000)],
    ['deeply nested raw HTML', () => '<div>'.repeat(200_000)],
    ['a megabyte of unclosed inline tags', () => '<em>'.repeat(GITLAB_DESCRIPTION_MAX_CHARS / 4)],
    ['a megabyte of angle brackets', () => '<'.repeat(GITLAB_DESCRIPTION_MAX_CHARS)],
    ['a long table', () => `|a|\n|-|\n${'|x|\n'.repeat(100_000)}`],
    ['a megabyte of text', () => 'lorem ipsum https://example.com/a '.repeat(32_000)],
  ])(
    'returns safe HTML for %s',
    (_case, build) => {
      const html = render(build());
      expect(typeof html).toBe('string');
      expectSafe(html);
    },
    LARGE_INPUT_TIMEOUT_MS,
  );

  it(
    'shows raw HTML nested too deep to parse as text',
    () => {
      expect(render(`${'<div>'.repeat(100_000)}x`)).toBe(`<p>${'&lt;div&gt;'.repeat(100_000)}x</p>\n`);
    },
    LARGE_INPUT_TIMEOUT_MS,
  );

  it(
    'cuts input after GitLab’s maximum, counting characters as GitLab does',
    () => {
      expect(render('a'.repeat(GITLAB_DESCRIPTION_MAX_CHARS + 10))).toBe(
        `<p>${'a'.repeat(GITLAB_DESCRIPTION_MAX_CHARS)}</p>\n`,
      );
      const emoji = '\u{1F600}';
      expect(render(`${emoji.repeat(GITLAB_DESCRIPTION_MAX_CHARS)}b`)).toBe(
        `<p>${emoji.repeat(GITLAB_DESCRIPTION_MAX_CHARS)}</p>\n`,
      );
    },
    LARGE_INPUT_TIMEOUT_MS,
  );

  it.each([
    ['lone surrogates', 'a\uD800b\uDC00c', '<p>a\uFFFDb\uFFFDc</p>\n'],
    ['NUL characters', 'a\u0000b', '<p>ab</p>\n'],
    [
      'invalid UTF-8 decoded from a Buffer',
      Buffer.from([0x61, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x62]).toString('utf8'),
      '<p>a\uFFFD\uFFFD\uFFFD(\uFFFD\uFFFD\uFFFDb</p>\n',
    ],
  ])('makes %s well-formed', (_case, markdown, html) => {
    const rendered = render(markdown);
    expect(rendered).toBe(html);
    expectSafe(rendered);
  });
});
