import { parseLabelReferences, parseQuickActions } from './quick-actions';

describe('parseQuickActions', () => {
  it('extracts known commands and keeps the rest of the text', () => {
    expect(parseQuickActions('Looks fixed.\n/close\n/label ~bug ~"needs review"')).toEqual({
      actions: [{ kind: 'close' }, { kind: 'label', labels: ['bug', 'needs review'] }],
      text: 'Looks fixed.',
    });
  });

  it('leaves indented lines, quotes, code blocks and unknown commands as text', () => {
    const body = ' /close\n> /close\n```\n/close\n```\n/usr/bin/env node';
    expect(parseQuickActions(body)).toEqual({ actions: [], text: body });
  });

  it('reads /unlabel without labels as "remove all"', () => {
    expect(parseQuickActions('/unlabel').actions).toEqual([{ kind: 'unlabel', labels: [] }]);
  });

  it('parses label references with and without tildes and quotes', () => {
    expect(parseLabelReferences('~priority::high plain ~"two words" "quoted"')).toEqual([
      'priority::high',
      'plain',
      'two words',
      'quoted',
    ]);
  });
});

describe('/clone', () => {
  it('reads the target path and --with_notes in any order', () => {
    expect(parseQuickActions('/clone').actions).toEqual([
      { kind: 'clone', path: null, withNotes: false, wrongParameters: false },
    ]);
    expect(parseQuickActions('/clone --with_notes  group/project').actions).toEqual([
      { kind: 'clone', path: 'group/project', withNotes: true, wrongParameters: false },
    ]);
  });

  it('flags more than one path as wrong parameters', () => {
    expect(parseQuickActions('/clone a/b c/d').actions).toEqual([
      { kind: 'clone', path: 'a/b', withNotes: false, wrongParameters: true },
    ]);
  });
});
