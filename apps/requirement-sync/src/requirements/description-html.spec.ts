import { renderGitlabMarkdown } from '@testkase/sync-rules';

import { DESCRIPTION_CACHE_BOUNDS, descriptionCacheUsage, descriptionHtml } from './description-html';

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

  it('stays within its entries and bytes however many descriptions pass (a backfill)', () => {
    for (let n = 0; n < DESCRIPTION_CACHE_BOUNDS.maxEntries + 500; n += 1) {
      descriptionHtml(`As a **buyer** I want feature ${n}.`, project);
    }
    expect(descriptionCacheUsage().entries).toBe(DESCRIPTION_CACHE_BOUNDS.maxEntries);
    const large = 'word '.repeat(3_000);
    for (let n = 0; n < 300; n += 1) descriptionHtml(`${n} ${large}`, project);
    const usage = descriptionCacheUsage();
    expect(usage.bytes).toBeLessThanOrEqual(DESCRIPTION_CACHE_BOUNDS.maxBytes);
    expect(usage.entries).toBeLessThan(300);
    // What is still cached is still right.
    expect(descriptionHtml(`299 ${large}`, project)).toBe(
      renderGitlabMarkdown(`299 ${large}`, { projectWebUrl: project }),
    );
  });
});
