import fc from 'fast-check';

import { renderGitlabMarkdown, renderGitlabMarkdownFully } from './gitlab-markdown';
import { renderWithoutHtml } from './markdown-fast-html';
import { createMarkdownParser } from './markdown-parser';

const projectWebUrl = 'https://gitlab.example.com/group/project';
const parser = createMarkdownParser({ html: true });
const keep = (url: string) => url;

const URLS = [
  'https://example.com/a?b=1&c="2"',
  'http://example.com/x y',
  '/uploads/abc/spec.pdf',
  'relative/path',
  '#anchor',
  '//cdn.example.com/i.png',
  'mailto:someone@example.com',
  'tel:+123',
  'javascript:alert(1)',
  'data:image/png;base64,AAAA',
  'ftp://example.com/f',
  'https://exämple.com/ü',
  'HTTPS://EXAMPLE.COM/',
  '',
];
const WORDS = ['buyer', 'feature', 'a', 'naïve', '日本', '😀', 'x\u0001y', 'tab\there', '"quoted"', "it's"];
const PUNCTUATION = [
  '&',
  '&amp;',
  '&copy;',
  '&#60;',
  '&#x3C;',
  '&quot;',
  '&nbsp;',
  '&bogus;',
  '>',
  '"',
  "'",
  '\\',
  '*',
  '_',
  '~',
  '`',
  '|',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  '!',
  '#',
  '=',
  '+',
  '-',
  ':',
];

const inline: fc.Arbitrary<string> = fc.letrec<{ inline: string }>((tie) => ({
  inline: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...WORDS),
    fc.constantFrom(...PUNCTUATION),
    fc.string({ maxLength: 8 }),
    fc.constantFrom(' ', '  \n', '\\\n', '\n', 'https://example.com/bare', 'www.example.com'),
    tie('inline').map((text) => `**${text}**`),
    tie('inline').map((text) => `_${text}_`),
    tie('inline').map((text) => `~~${text}~~`),
    tie('inline').map((text) => `\`${text}\``),
    fc
      .tuple(
        tie('inline'),
        fc.constantFrom(...URLS),
        fc.option(fc.constantFrom('t', 'a "b"', '&x'), { nil: undefined }),
      )
      .map(([text, url, title]) => `[${text}](${url}${title === undefined ? '' : ` "${title}"`})`),
    fc.tuple(tie('inline'), fc.constantFrom(...URLS)).map(([text, url]) => `![${text}](${url})`),
    fc.array(tie('inline'), { maxLength: 4 }).map((parts) => parts.join(' ')),
  ),
})).inline;

const block: fc.Arbitrary<string> = fc.oneof(
  inline,
  inline.map((text) => `# ${text}`),
  inline.map((text) => `### ${text}`),
  inline.map((text) => `> ${text}`),
  fc
    .array(inline, { minLength: 1, maxLength: 3 })
    .map((items) => items.map((item) => `- ${item}`).join('\n')),
  fc
    .tuple(fc.integer({ min: 0, max: 12 }), fc.array(inline, { minLength: 1, maxLength: 3 }))
    .map(([start, items]) => items.map((item, index) => `${start + index}. ${item}`).join('\n')),
  fc.constantFrom('---', '***', '- [ ] task', '- [x] done', '| a | b |\n|---|--:|\n| 1 | 2 |'),
  fc
    .tuple(
      fc.constantFrom('', 'js', 'c++', 'ts {.x}', 'a&b', 'we\\ird', 'x'.repeat(70), '"q"'),
      fc.string({ maxLength: 20 }),
    )
    .map(([info, code]) => `\`\`\`${info}\n${code}\n\`\`\``),
  fc.string({ maxLength: 20 }).map((code) => `    ${code}`),
);

const markdown = fc.array(block, { minLength: 1, maxLength: 6 }).map((blocks) => blocks.join('\n\n'));

describe('the fast path for Markdown that cannot hold HTML', () => {
  it('gives exactly what the full pipeline (markdown-it, then the sanitizer) gives', () => {
    fc.assert(
      fc.property(markdown, (source) => {
        expect(renderGitlabMarkdown(source, { projectWebUrl })).toBe(
          renderGitlabMarkdownFully(source, { projectWebUrl }),
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('applies to most generated descriptions without "<" (the property above is not vacuous)', () => {
    const sources = fc.sample(markdown, 1_000);
    const fast = sources.filter((source) => renderWithoutHtml(source, parser, keep) !== null);
    expect(fast.length).toBeGreaterThan(300);
  });

  it('applies to a typical description: emphasis and a link to an upload', () => {
    const source = 'As a **buyer** I want feature 7. See [the spec](/uploads/spec-7.pdf).';
    expect(renderWithoutHtml(source, parser, (url) => `https://gitlab.example.com${url}`)).toBe(
      '<p>As a <strong>buyer</strong> I want feature 7. See <a href="https://gitlab.example.com/uploads/spec-7.pdf" rel="noopener noreferrer nofollow">the spec</a>.</p>\n',
    );
  });

  it.each([
    ['raw HTML', 'a <b>bold</b> word'],
    ['an autolink', '<https://example.com>'],
    ['a task list', '- [ ] task'],
    ['a table', '| a |\n|---|\n| 1 |'],
    ['a link the sanitizer judges', '[x](mailto:a@example.com)'],
  ])('leaves %s to the full pipeline', (_case, source) => {
    expect(renderWithoutHtml(source, parser, keep)).toBeNull();
  });
});
