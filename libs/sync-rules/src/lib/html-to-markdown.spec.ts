import { HTML_TO_MARKDOWN_MAX_CHARS, htmlToMarkdown } from './html-to-markdown';

const LARGE_INPUT_TIMEOUT_MS = 60_000;

describe('htmlToMarkdown', () => {
  it.each<[string, string | null | undefined, string]>([
    ['null', null, ''],
    ['undefined', undefined, ''],
    ['blank', '  \n ', ''],
    ['emphasis', '<p>Hello <strong>bold</strong> and <em>it</em></p>', 'Hello **bold** and _it_'],
    ['a heading', '<h2>Steps</h2>', '## Steps'],
    ['a bullet list', '<ul><li>a</li><li>b</li></ul>', '-   a\n-   b'],
    ['a numbered list', '<ol><li>one</li><li>two</li></ol>', '1.  one\n2.  two'],
    [
      'a task list',
      '<ul><li><input type="checkbox" checked> done</li><li><input type="checkbox"> todo</li></ul>',
      '-   [x]  done\n-   [ ]  todo',
    ],
    [
      'a table',
      '<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>',
      '| a | b |\n| --- | --- |\n| 1 | 2 |',
    ],
    [
      'a table without a heading row, kept as HTML',
      '<table><tr><td>1</td></tr></table>',
      '<table><tbody><tr><td>1</td></tr></tbody></table>',
    ],
    ['strikethrough', '<p><del>old</del> <s>gone</s> <strike>was</strike></p>', '~~old~~ ~~gone~~ ~~was~~'],
    [
      'a code block with its language',
      '<pre><code class="language-ts">const a = 1;</code></pre>',
      '```ts\nconst a = 1;\n```',
    ],
    ['a quote', '<blockquote><p>quoted</p></blockquote>', '> quoted'],
    ['a link', '<a href="https://example.com/x">x</a>', '[x](https://example.com/x)'],
    ['an image', '<img src="https://example.com/a.png" alt="shot">', '![shot](https://example.com/a.png)'],
    ['a line break', '<p>a<br>b</p>', 'a  \nb'],
    [
      'text that looks like Markdown',
      '<p>1. not a list *or* # heading</p>',
      '1\\. not a list \\*or\\* # heading',
    ],
  ])('converts %s', (_case, html, markdown) => {
    expect(htmlToMarkdown(html)).toBe(markdown);
  });

  it.each([
    ['a script', '<script>alert(1)</script><p>ok</p>', 'ok'],
    ['event handlers and styles', '<p onclick="steal()" style="position:fixed">ok</p>', 'ok'],
    ['a javascript: link', '<a href="javascript:alert(1)">click</a>', 'click'],
    ['an entity-encoded javascript: link', '<a href="&#106;avascript:alert(1)">click</a>', 'click'],
    ['a vbscript: link', '<a href="vbscript:msgbox(1)">click</a>', 'click'],
    ['a data: link', '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">click</a>', 'click'],
    ['a data: image', '<img src="data:image/png;base64,AAAA" alt="x">', ''],
    ['an onerror image', '<img src=x onerror=alert(1)>', '![](x)'],
    ['an iframe', '<iframe src="https://evil.example"></iframe>text', 'text'],
    ['an svg', '<svg onload="alert(1)"><text>x</text></svg>text', 'text'],
    ['a forged defect marker', '<!-- testkase:defect:forged --><p>text</p>', 'text'],
    ['a form', '<form action="https://evil.example"><input name="q"><button>Go</button></form>text', 'text'],
  ])('drops %s', (_case, html, markdown) => {
    expect(htmlToMarkdown(html)).toBe(markdown);
  });

  it.each([
    ['paragraphs', '<p>/close</p><p>/label ~bug</p>', '\\/close\n\n\\/label ~bug'],
    ['a line after a break', '<p>see below<br>/assign @me</p>', 'see below  \n\\/assign @me'],
    ['a code block, which GitLab skips', '<pre><code>/close</code></pre>', '```\n/close\n```'],
    [
      'a code block holding a fence',
      '<pre><code>```\n/close\n```</code></pre>',
      '````\n```\n /close\n```\n````',
    ],
  ])('escapes quick actions in %s', (_case, html, markdown) => {
    expect(htmlToMarkdown(html)).toBe(markdown);
  });

  it('flattens elements nested deeper than it converts, keeping the text', () => {
    const markdown = htmlToMarkdown(`${'<blockquote>'.repeat(40)}deep`);
    expect(markdown).toMatch(/deep$/);
    expect(markdown.split('>').length - 1).toBeLessThan(40);
  });

  it(
    'keeps only the text of HTML nested too deep to parse',
    () => {
      expect(htmlToMarkdown(`${'<div>'.repeat(200_000)}deep /close`)).toBe('deep /close');
      expect(htmlToMarkdown('<em>'.repeat(500_000))).toBe('');
    },
    LARGE_INPUT_TIMEOUT_MS,
  );

  it(
    'cuts input beyond its limit',
    () => {
      expect(htmlToMarkdown('a'.repeat(HTML_TO_MARKDOWN_MAX_CHARS + 100))).toHaveLength(
        HTML_TO_MARKDOWN_MAX_CHARS,
      );
    },
    LARGE_INPUT_TIMEOUT_MS,
  );

  it('makes text well-formed and drops NUL characters', () => {
    const invalidUtf8 = Buffer.from([
      0x3c, 0x70, 0x3e, 0x61, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x62,
    ]).toString('utf8');
    const markdown = htmlToMarkdown(`${invalidUtf8}\u0000<p>x\uD800y</p>`);
    expect(markdown.isWellFormed()).toBe(true);
    expect(markdown).not.toContain('\u0000');
    expect(markdown).toContain('x\uFFFDy');
  });
});
