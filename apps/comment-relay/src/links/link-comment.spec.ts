import { LINK_COMMENT_MARKER, renderLinkComment } from './link-comment';

describe('renderLinkComment', () => {
  it('lists every test case with its key, linked title and status, then the marker', () => {
    const body = renderLinkComment([
      { key: 'TC-1', title: 'Pay with a saved card', url: 'https://tk.example.com/tc/1', status: 'Passed' },
      { key: 'TC-2', title: 'Refund', url: 'https://tk.example.com/tc/2', status: null },
    ]);
    expect(body).toContain('### Linked TestKase test cases');
    expect(body).toContain('| TC-1 | [Pay with a saved card](https://tk.example.com/tc/1) | Passed |');
    expect(body).toContain('| TC-2 | [Refund](https://tk.example.com/tc/2) | — |');
    expect(body).toContain('2 test cases linked');
    expect(body.endsWith(LINK_COMMENT_MARKER)).toBe(true);
  });

  it('escapes hostile titles and keys: no link, HTML, table break or quick action gets through', () => {
    const body = renderLinkComment([
      {
        key: '/close',
        title: 'x | y <img src=x onerror=alert(1)> [a](javascript:alert(1))',
        url: 'javascript:alert(1)',
        status: '@all',
      },
    ]);
    expect(body).not.toMatch(/^\/close/m);
    expect(body).not.toMatch(/(?<!\\)<img/);
    expect(body).not.toContain('@all');
    expect(body).not.toContain('](javascript:');
    expect(body).toContain('x \\| y');
  });
});
