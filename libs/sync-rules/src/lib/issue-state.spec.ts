import {
  DefectStatus,
  defectStatusToIssueState,
  IssueState,
  IssueStateEvent,
  issueStateToDefectStatus,
  issueStateToRequirementStatus,
  RequirementStatus,
  stateEventFor,
} from './issue-state';

describe('issueStateToRequirementStatus', () => {
  it.each<[IssueState, RequirementStatus]>([
    ['opened', 'Active'],
    ['closed', 'Deprecated'],
  ])('%s → %s', (state, status) => {
    expect(issueStateToRequirementStatus(state)).toBe(status);
  });
});

describe('defectStatusToIssueState', () => {
  it.each<[DefectStatus, IssueState]>([
    ['Open', 'opened'],
    ['In-Progress', 'opened'],
    ['Closed', 'closed'],
    ['Achieved', 'closed'],
  ])('%s → %s', (status, state) => {
    expect(defectStatusToIssueState(status)).toBe(state);
  });
});

describe('stateEventFor', () => {
  it.each<[DefectStatus, IssueState, IssueStateEvent | null]>([
    ['Open', 'opened', null],
    ['Open', 'closed', 'reopen'],
    ['In-Progress', 'opened', null],
    ['In-Progress', 'closed', 'reopen'],
    ['Closed', 'opened', 'close'],
    ['Closed', 'closed', null],
    ['Achieved', 'opened', 'close'],
    ['Achieved', 'closed', null],
  ])('%s with the issue %s → %s', (status, state, event) => {
    expect(stateEventFor(status, state)).toBe(event);
  });
});

describe('issueStateToDefectStatus', () => {
  it.each<[IssueState, DefectStatus, DefectStatus]>([
    ['opened', 'Open', 'Open'],
    ['opened', 'In-Progress', 'In-Progress'],
    ['opened', 'Closed', 'Open'],
    ['opened', 'Achieved', 'Open'],
    ['closed', 'Open', 'Closed'],
    ['closed', 'In-Progress', 'Closed'],
    ['closed', 'Closed', 'Closed'],
    ['closed', 'Achieved', 'Achieved'],
  ])('issue %s, defect %s → %s', (state, current, status) => {
    expect(issueStateToDefectStatus(state, current)).toBe(status);
  });
});
