import { commentMarkdown, GITLAB_NOTE_MAX_CHARS, noteBody, OUR_NOTE_MARKER } from './comment-body';

describe('TestKase comment notes', () => {
  it('attributes the comment and marks it ours', () => {
    const body = noteBody('CMT-1', 'Ada *Lovelace*', 'Reproduced.');
    expect(body.startsWith('**Ada \\*Lovelace\\*** commented in TestKase:\n\nReproduced.')).toBe(true);
    expect(body.endsWith('<!-- testkase:comment:CMT-1 -->')).toBe(true);
    expect(OUR_NOTE_MARKER.test(body)).toBe(true);
  });

  it('neutralises quick actions in rich text and in Markdown', () => {
    expect(commentMarkdown('<p>/close</p><p>/label ~bug</p>', 'html')).not.toMatch(/^\/(close|label)/m);
    expect(commentMarkdown('/close\n/assign @me', 'markdown')).toBe('\\/close\n\\/assign @me');
  });

  it('cuts a body over GitLab’s note limit with a note, keeping the marker', () => {
    const body = noteBody('CMT-2', 'Ada', 'x'.repeat(GITLAB_NOTE_MAX_CHARS + 10));
    expect(body.length).toBeLessThanOrEqual(GITLAB_NOTE_MAX_CHARS);
    expect(body).toContain('The comment was cut to fit GitLab');
    expect(body.endsWith('<!-- testkase:comment:CMT-2 -->')).toBe(true);
  });
});
