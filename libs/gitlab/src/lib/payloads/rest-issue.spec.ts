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

  it('is null for fields beyond what GitLab allows (a hostile instance), so no event carries them', () => {
    expect(snapshotFromRestIssue({ ...documented, title: 'x'.repeat(2 * 1024 * 1024) })).toBeNull();
    expect(snapshotFromRestIssue({ ...documented, labels: ['l'.repeat(256)] })).toBeNull();
    expect(
      snapshotFromRestIssue({ ...documented, labels: Array.from({ length: 1_001 }, (_, n) => `l${n}`) }),
    ).toBeNull();
    expect(
      snapshotFromRestIssue({ ...documented, labels: Array.from({ length: 1_000 }, () => 'l'.repeat(255)) }),
    ).toBeNull();
    expect(
      snapshotFromRestIssue({ ...documented, web_url: `https://gitlab.example/${'p'.repeat(2_048)}` }),
    ).toBeNull();
    expect(snapshotFromRestIssue({ ...documented, description: 'd'.repeat(1_048_577) })).toBeNull();
    expect(snapshotFromRestIssue({ ...documented, title: 't'.repeat(255) })).not.toBeNull();
  });
});
