import {
  isPriorityScopedLabel,
  labelsToPriority,
  parsePriorityLabel,
  Priority,
  priorityLabelState,
} from './priority';

describe('labelsToPriority', () => {
  it.each<[string[], Priority]>([
    [[], 'P2'],
    [['bug', 'frontend'], 'P2'],
    [['priority::critical'], 'P0'],
    [['priority::high'], 'P1'],
    [['priority::medium'], 'P2'],
    [['priority::low'], 'P3'],
    [['bug', 'priority::low', 'priority::high'], 'P1'],
    [['priority::low', 'priority::medium', 'priority::critical'], 'P0'],
    [['Priority::High'], 'P1'],
    [['PRIORITY::CRITICAL'], 'P0'],
    [['  priority::low  '], 'P3'],
    [['priority:: high'], 'P1'],
    [['priority :: medium'], 'P2'],
    [['priority::urgent'], 'P2'],
    [['priority::urgent', 'priority::low'], 'P3'],
    [['priority::'], 'P2'],
    [['priority:high'], 'P2'],
    [['priority::highest'], 'P2'],
    [['my-priority::high'], 'P2'],
    [['priority::high::extra'], 'P2'],
  ])('%j → %s', (labels, priority) => {
    expect(labelsToPriority(labels)).toBe(priority);
  });
});

describe('parsePriorityLabel', () => {
  it.each([
    ['priority::critical', 'critical'],
    ['Priority:: Low', 'low'],
    ['priority::urgent', null],
    ['severity::high', null],
    ['', null],
  ])('%j → %j', (label, value) => {
    expect(parsePriorityLabel(label)).toBe(value);
  });
});

describe('isPriorityScopedLabel', () => {
  it.each([
    ['priority::high', true],
    ['priority::urgent', true],
    [' Priority :: whatever', true],
    ['priority::', true],
    ['priority:high', false],
    ['severity::high', false],
    ['my-priority::high', false],
  ])('%j → %j', (label, scoped) => {
    expect(isPriorityScopedLabel(label)).toBe(scoped);
  });
});

describe('priorityLabelState', () => {
  it.each<[string[], string[]]>([
    [[], []],
    [['bug', 'priority::urgent'], []],
    [['Priority:: High', 'bug'], ['priority::high']],
    [
      ['priority::low', 'priority::critical', 'priority::low'],
      ['priority::critical', 'priority::low'],
    ],
    [[' PRIORITY::LOW ', 'priority::low'], ['priority::low']],
  ])('%j → %j', (labels, state) => {
    expect(priorityLabelState(labels)).toEqual(state);
  });
});
