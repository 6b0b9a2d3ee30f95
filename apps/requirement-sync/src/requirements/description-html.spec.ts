import { renderGitlabMarkdown } from '@testkase/sync-rules';

import { descriptionHtml } from './description-html';

describe('descriptionHtml', () => {
  const project = 'https://gitlab.example.com/group/project';

  it('gives exactly what renderGitlabMarkdown gives, first and cached alike', () => {
    const markdown = 'See [the spec](/uploads/abc/spec.pdf) and <script>alert(1)</script> **now**';
    const expected = renderGitlabMarkdown(markdown, { projectWebUrl: project });
    expect(descriptionHtml(markdown, project)).toBe(expected);
    expect(descriptionHtml(markdown, project)).toBe(expected);
  });

  it('keeps projects apart: relative links resolve against their own project', () => {
    const markdown = '[attachment](/uploads/x/file.txt)';
    expect(descriptionHtml(markdown, project)).toContain(`${project}/uploads/x/file.txt`);
    expect(descriptionHtml(markdown, 'https://gitlab.example.com/other/repo')).toContain(
      'https://gitlab.example.com/other/repo/uploads/x/file.txt',
    );
  });

  it('renders long descriptions without caching them, and correctly', () => {
    const markdown = `# Title\n\n${'word '.repeat(10_000)}`;
    expect(descriptionHtml(markdown, project)).toBe(
      renderGitlabMarkdown(markdown, { projectWebUrl: project }),
    );
  });
});
