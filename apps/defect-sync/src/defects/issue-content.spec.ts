import {
  contextBlock,
  descriptionMarkdown,
  hasOurBlock,
  inlineText,
  issueDescription,
  issueTitle,
  markerOf,
  userDescriptionOf,
} from './issue-content';

const base = {
  defectId: 'DEF-7',
  title: 'Checkout fails',
  description: 'Pay with an **expired** card.',
  url: 'https://testkase.example.com/demo/defects/DEF-7',
  context: null,
};

describe('issue content', () => {
  it('keeps titles up to 255 characters and shortens longer ones with an ellipsis, by code points', () => {
    expect(issueTitle('  A  short\ttitle ')).toBe('A short title');
    const emoji = '😀'.repeat(300);
    const shortened = issueTitle(emoji);
    expect([...shortened]).toHaveLength(255);
    expect(shortened.endsWith('…')).toBe(true);
    expect(shortened).not.toMatch(/\uFFFD/);
    expect(issueTitle('x'.repeat(255))).toBe('x'.repeat(255));
  });

  it('writes the description, the context, the link back and the marker, in that order', () => {
    const description = issueDescription({
      ...base,
      context: {
        testCaseKey: 'TC-1',
        testCaseTitle: 'Login',
        testCaseUrl: 'https://testkase.example.com/tc/1',
        cycle: 'Sprint 3',
        executionUrl: 'https://testkase.example.com/ex/9',
        failedStep: 'Step 2\nclick',
      },
    });
    const order = [
      'Pay with an **expired** card.',
      '<!-- testkase:footer -->',
      '- Test case: [TC-1 Login](https://testkase.example.com/tc/1)',
      '- Cycle: Sprint 3',
      '- Execution: [open the test run](https://testkase.example.com/ex/9)',
      '- Failed step: Step 2 click',
      '[View defect DEF-7 in TestKase](https://testkase.example.com/demo/defects/DEF-7)',
      '<!-- testkase:defect:DEF-7 -->',
    ].map((part) => description.indexOf(part));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(markerOf(description)).toBe('DEF-7');
    expect(hasOurBlock(description, 'DEF-7')).toBe(true);
    expect(hasOurBlock(description, 'DEF-8')).toBe(false);
  });

  it('escapes what TestKase sends into the context so it cannot become a link, markup or a command', () => {
    const block = contextBlock({
      testCaseTitle: '[x](javascript:alert(1)) <b>bold</b> ~label',
      cycle: '/close',
    });
    expect(block).toContain('\\[x\\]\\(javascript:alert\\(1\\)\\) \\<b\\>bold\\</b\\> \\~label');
    expect(block).not.toMatch(/^\/close/m);
    expect(contextBlock({ testCaseKey: 'TC-1', testCaseUrl: 'javascript:alert(1)' })).toBe(
      '**Found while testing in TestKase**\n\n- Test case: TC-1',
    );
    expect(contextBlock(null)).toBe('');
    expect(inlineText('a\n\nb')).toBe('a b');
  });

  it('puts the full title first when GitLab shortened it, and reads the defect description back without it', () => {
    const title = `${'long '.repeat(60)}end`;
    const description = issueDescription({ ...base, title });
    expect(description.startsWith(`**${title.trim()}**`)).toBe(true);
    expect(userDescriptionOf(description)).toBe(base.description);
    expect(issueDescription(base).startsWith(base.description)).toBe(true);
  });

  it('cuts a description over 1 MiB of UTF-8 with a note and keeps the block whole', () => {
    const description = issueDescription({ ...base, description: 'ü'.repeat(600_000) });
    expect(Buffer.byteLength(description, 'utf8')).toBeLessThanOrEqual(1_048_576);
    expect(description).toContain('was cut here: [read all of it in TestKase]');
    expect(description).not.toMatch(/\uFFFD/);
    expect(markerOf(description)).toBe('DEF-7');
  });

  it('reads back what someone wrote, whatever is left of our block', () => {
    expect(userDescriptionOf('Mine only')).toBe('Mine only');
    expect(userDescriptionOf('Mine\n\n<!-- testkase:defect:DEF-7 -->')).toBe('Mine');
    expect(userDescriptionOf('Mine\r\n\r\n<!-- testkase:footer -->\n---\nrest')).toBe('Mine');
  });

  it('converts rich text to Markdown and keeps Markdown, quick actions neutralised either way', () => {
    expect(descriptionMarkdown('<p>Hello <strong>you</strong></p><script>x()</script>', 'html')).toBe(
      'Hello **you**',
    );
    expect(descriptionMarkdown('/close\nText', 'markdown')).toBe('\\/close\nText');
    expect(descriptionMarkdown('<p>/close</p>', 'html')).toBe('\\/close');
  });
});
