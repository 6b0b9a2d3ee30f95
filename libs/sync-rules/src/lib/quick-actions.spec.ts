import { renderGitlabMarkdown } from './gitlab-markdown';
import { neutraliseQuickActions } from './quick-actions';

describe('neutraliseQuickActions', () => {
  it.each([
    ['a command line', '/close', '\\/close'],
    ['a command with arguments', '/label ~bug ~"needs review"', '\\/label ~bug ~"needs review"'],
    ['an upper-case command', '/Close', '\\/Close'],
    ['an indented command', '  /assign @me', '  \\/assign @me'],
    ['a tab-indented line of a paragraph', 'Steps\n\t/close', 'Steps\n\t\\/close'],
    ['commands between text', 'Steps\n/close\n/reopen\nDone', 'Steps\n\\/close\n\\/reopen\nDone'],
    ['CRLF line endings', 'a\r\n/close\r\n', 'a\n\\/close\n'],
    ['a command after a closed fence', '```\ncode\n```\n/close', '```\ncode\n```\n\\/close'],
    ['a command in a quote block of GitLab', '>>>\n/close\n>>>', '>>>\n\\/close\n>>>'],
    ['a slash inside a line', 'Please /close this', 'Please /close this'],
    ['a slash before a digit', '/1 is not a command', '/1 is not a command'],
    ['a comment-like line', '// not a command', '// not a command'],
    ['a lone slash', '/', '/'],
    ['a quoted line', '> /close', '> /close'],
    ['a list item', '- /close', '- /close'],
    ['a fence GitLab skips', '```\n/close\n```', '```\n/close\n```'],
    [
      'a fence with a language GitLab skips',
      '```sh\n/close\n  /reopen\n```',
      '```sh\n/close\n  /reopen\n```',
    ],
    ['a tilde fence, which GitLab does not skip', '~~~\n/close\n~~~', '~~~\n /close\n~~~'],
    ['a fence closed with trailing spaces', '```\n/close\n```  ', '```\n /close\n```  '],
    ['a four-backtick fence', '````\n```\n/close\n```\n````', '````\n```\n /close\n```\n````'],
    ['an unclosed fence', '```\n/close', '```\n /close'],
    ['an indented code block', '    /close', '    /close'],
    ['a tab-indented code block', '\t/close', '\t/close'],
    ['raw HTML', '<div>\n/close\n  /reopen\n</div>', '<div>\n&#47;close\n  &#47;reopen\n</div>'],
  ])('%s', (_case, markdown, expected) => {
    expect(neutraliseQuickActions(markdown)).toBe(expected);
  });

  it.each([
    '/close',
    'Steps:\n/label ~bug\nthen',
    '  /assign @me',
    '<div>\n/close\n</div>',
    '| a |\n|---|\n/close | x',
    '~~~\n  /close\n~~~',
  ])('keeps how %j renders', (markdown) => {
    const options = { projectWebUrl: 'https://gitlab.example.com/group/project' };
    expect(renderGitlabMarkdown(neutraliseQuickActions(markdown), options)).toBe(
      renderGitlabMarkdown(markdown, options),
    );
  });
});
