/** The `state` of a GitLab issue. */
export type IssueState = 'opened' | 'closed';

/** The `state_event` that moves a GitLab issue between states. */
export type IssueStateEvent = 'close' | 'reopen';

export type RequirementStatus = 'Active' | 'Deprecated';

export type DefectStatus = 'Open' | 'In-Progress' | 'Closed' | 'Achieved';

export const issueStateToRequirementStatus = (state: IssueState): RequirementStatus =>
  state === 'opened' ? 'Active' : 'Deprecated';

/** Open and In-Progress defects are open issues; Closed and Achieved defects are closed issues. */
export const defectStatusToIssueState = (status: DefectStatus): IssueState => {
  switch (status) {
    case 'Open':
    case 'In-Progress':
      return 'opened';
    case 'Closed':
    case 'Achieved':
      return 'closed';
  }
};

/** The `state_event` that brings the issue in line with the defect, or null when it already is. */
export const stateEventFor = (
  status: DefectStatus,
  currentIssueState: IssueState,
): IssueStateEvent | null => {
  const wanted = defectStatusToIssueState(status);
  if (wanted === currentIssueState) return null;
  return wanted === 'closed' ? 'close' : 'reopen';
};

/**
 * The defect status after the issue moved to `state`. GitLab knows only opened and closed, so a
 * defect keeps its finer status (In-Progress, Achieved) while it still agrees with the issue.
 */
export const issueStateToDefectStatus = (
  state: IssueState,
  currentDefectStatus: DefectStatus,
): DefectStatus => {
  if (defectStatusToIssueState(currentDefectStatus) === state) return currentDefectStatus;
  return state === 'opened' ? 'Open' : 'Closed';
};
