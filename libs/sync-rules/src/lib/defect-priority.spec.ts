import {
  DEFECT_PRIORITIES,
  DefectPriority,
  defectPriorityToLabel,
  LabelChanges,
  labelsToDefectPriority,
  planPriorityLabels,
} from './defect-priority';

describe('defectPriorityToLabel', () => {
  it.each<[DefectPriority, string]>([
    ['Blocker', 'priority::critical'],
    ['Critical', 'priority::high'],
    ['Major', 'priority::medium'],
    ['Minor', 'priority::low'],
    ['Trivial', 'priority::low'],
  ])('%s → %s', (priority, label) => {
    expect(defectPriorityToLabel(priority)).toBe(label);
  });
});

describe('planPriorityLabels', () => {
  it.each<[string, string[], DefectPriority, LabelChanges]>([
    ['adds the label to an issue without one', [], 'Blocker', { add: ['priority::critical'], remove: [] }],
    ['leaves other labels alone', ['bug', 'ui'], 'Critical', { add: ['priority::high'], remove: [] }],
    [
      'changes nothing when the label is there',
      ['bug', 'priority::critical'],
      'Blocker',
      { add: [], remove: [] },
    ],
    [
      'replaces the old priority',
      ['bug', 'priority::low'],
      'Major',
      { add: ['priority::medium'], remove: ['priority::low'] },
    ],
    [
      'removes every other priority, unknown values too',
      ['priority::high', 'priority::low', 'priority::urgent'],
      'Critical',
      { add: [], remove: ['priority::low', 'priority::urgent'] },
    ],
    [
      'removes labels exactly as they are spelt on the issue',
      ['Priority:: Low', 'PRIORITY::critical'],
      'Major',
      { add: ['priority::medium'], remove: ['Priority:: Low', 'PRIORITY::critical'] },
    ],
    [
      'keeps a differently spelt label with the wanted value',
      ['Priority:: High'],
      'Critical',
      { add: [], remove: [] },
    ],
    [
      'maps Trivial to the low label',
      ['priority::medium'],
      'Trivial',
      { add: ['priority::low'], remove: ['priority::medium'] },
    ],
    ['treats Minor and Trivial alike', ['priority::low'], 'Trivial', { add: [], remove: [] }],
    [
      'ignores look-alikes outside the scope',
      ['priority-high', 'priority:low'],
      'Minor',
      { add: ['priority::low'], remove: [] },
    ],
    [
      'lists a duplicated label once',
      ['priority::low', 'priority::low'],
      'Blocker',
      { add: ['priority::critical'], remove: ['priority::low'] },
    ],
  ])('%s', (_case, current, priority, changes) => {
    expect(planPriorityLabels(current, priority)).toEqual(changes);
  });
});

describe('labelsToDefectPriority', () => {
  it.each<[string[], DefectPriority | undefined, DefectPriority]>([
    [[], undefined, 'Major'],
    [['bug'], 'Trivial', 'Trivial'],
    [['priority::urgent'], 'Minor', 'Minor'],
    [['priority::critical'], undefined, 'Blocker'],
    [['priority::high'], undefined, 'Critical'],
    [['priority::medium'], undefined, 'Major'],
    [['priority::low'], undefined, 'Minor'],
    [['priority::low'], 'Trivial', 'Trivial'],
    [['priority::low'], 'Minor', 'Minor'],
    [['priority::low'], 'Blocker', 'Minor'],
    [['priority::medium'], 'Trivial', 'Major'],
    [['priority::low', 'priority::high'], 'Trivial', 'Critical'],
    [['Priority:: Critical'], 'Major', 'Blocker'],
  ])('%j with current %s → %s', (labels, current, priority) => {
    expect(labelsToDefectPriority(labels, current)).toBe(priority);
  });

  it.each(DEFECT_PRIORITIES)('reads back %s from the label it was pushed with', (priority) => {
    expect(labelsToDefectPriority([defectPriorityToLabel(priority)], priority)).toBe(priority);
  });
});
