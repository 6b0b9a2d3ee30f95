import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { GitlabIssue } from '../gitlab-rest.types';
import { restIssueOfOtherType, snapshotFromRestIssue } from './rest-issue';

const documented = JSON.parse(
  readFileSync(path.join(__dirname, '../../../test/fixtures/gitlab/api-issue.json'), 'utf8'),
) as GitlabIssue;

describe('snapshotFromRestIssue', () => {
  it('reads the documented issue, which was not moved', () => {
    const snapshot = snapshotFromRestIssue(documented);
    expect(snapshot).toMatchObject({ iid: 1, state: 'closed', updatedAtExact: true, source: 'rest' });
    expect(snapshot && 'movedToId' in snapshot).toBe(false);
  });

  it('keeps moved_to_id of a moved issue', () => {
    expect(snapshotFromRestIssue({ ...documented, moved_to_id: 92 })).toMatchObject({ movedToId: 92 });
    expect(snapshotFromRestIssue({ ...documented, moved_to_id: null })).not.toHaveProperty('movedToId');
  });

  it('is null for another work item type, which restIssueOfOtherType names', () => {
    const incident = { ...documented, issue_type: 'incident' } as GitlabIssue;
    expect(snapshotFromRestIssue(incident)).toBeNull();
    expect(restIssueOfOtherType(incident)).toEqual({ iid: 1, issueType: 'incident' });
    expect(restIssueOfOtherType(documented)).toBeNull();
  });
});
