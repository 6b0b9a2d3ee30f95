import type { IssueSnapshot } from '@testkase/gitlab';

import type { DefectRecord } from './defect.record';
import { mergeGitlabSnapshot, ourIssue } from './gitlab-merge';

const at = (iso: string) => new Date(iso);

/** A pushed defect whose issue GitLab showed last at 10:00:00.500, equal to the defect. */
function pushed(overrides: Partial<DefectRecord> = {}): DefectRecord {
  const record = {
    id: '7f7d5d1e-0000-4000-8000-000000000001',
    project_id: 'demo',
    defect_id: 'DEF-1',
    connection_id: '7f7d5d1e-0000-4000-8000-000000000002',
    detached_at: null,
    instance_url: 'https://gitlab.example.com',
    gitlab_project_id: '42',
    iid: 3,
    issue_id: '103',
    web_url: 'https://gitlab.example.com/g/p/-/issues/3',
    push_state: 'created',
    push_attempts: 1,
    push_started_at: at('2026-12-01T09:59:59Z'),
    push_outcome_unknown: false,
    pushed_at: at('2026-12-01T10:00:00Z'),
    title: 'Checkout fails',
    description: 'Steps',
    url: 'https://testkase.example.com/d/1',
    context: null,
    priority: 'Critical',
    status: 'Open',
    field_times: {},
    dirty: [],
    gl_title: null,
    gl_description: null,
    gl_state: 'opened',
    gl_labels: ['priority::high'],
    gl_updated_at: at('2026-12-01T10:00:00.500Z'),
    gl_updated_at_exact: true,
    pending_label: null,
    warnings: [],
    error_code: null,
    error_message: null,
    error_at: null,
    next_attempt_at: null,
    failures: 0,
    version: 2,
    created_at: at('2026-12-01T09:59:59Z'),
    updated_at: at('2026-12-01T10:00:00Z'),
    ...overrides,
  } as DefectRecord;
  const ours = ourIssue(record);
  return {
    ...record,
    gl_title: overrides.gl_title ?? ours.title,
    gl_description: overrides.gl_description ?? ours.description,
  };
}

function snapshot(record: DefectRecord, changes: Partial<IssueSnapshot>): IssueSnapshot {
  return {
    iid: 3,
    issueId: 103,
    title: record.gl_title ?? '',
    description: record.gl_description ?? '',
    state: record.gl_state ?? 'opened',
    labels: record.gl_labels ?? [],
    confidential: false,
    webUrl: record.web_url,
    createdAt: record.created_at,
    updatedAt: at('2026-12-01T10:00:05Z'),
    updatedAtExact: false,
    source: 'webhook',
    ...changes,
  };
}

describe('mergeGitlabSnapshot', () => {
  it('closes and reopens by the status table, keeping Achieved and In-Progress while they agree', () => {
    const open = pushed({ status: 'In-Progress' });
    const closed = mergeGitlabSnapshot(open, snapshot(open, { state: 'closed' }));
    expect(closed).toMatchObject({
      kind: 'merged',
      changes: { status: { previous: 'In-Progress', current: 'Closed' } },
    });
    const achieved = pushed({ status: 'Achieved', gl_state: 'opened' });
    expect(mergeGitlabSnapshot(achieved, snapshot(achieved, { state: 'closed' }))).toMatchObject({
      kind: 'merged',
      changes: {},
    });
    const reopened = pushed({ status: 'Closed', gl_state: 'closed' });
    expect(mergeGitlabSnapshot(reopened, snapshot(reopened, { state: 'opened' }))).toMatchObject({
      changes: { status: { current: 'Open' } },
    });
  });

  it('follows the most urgent priority label; low keeps Trivial; no label keeps the priority', () => {
    const record = pushed();
    expect(
      mergeGitlabSnapshot(record, snapshot(record, { labels: ['priority::high', 'priority::critical'] })),
    ).toMatchObject({
      changes: { priority: { previous: 'Critical', current: 'Blocker' } },
    });
    const trivial = pushed({ priority: 'Trivial', gl_labels: ['priority::medium'] });
    expect(mergeGitlabSnapshot(trivial, snapshot(trivial, { labels: ['priority::low'] }))).toMatchObject({
      changes: {},
    });
    expect(mergeGitlabSnapshot(record, snapshot(record, { labels: ['bug'] }))).toMatchObject({ changes: {} });
  });

  it('reports title and description edits, the description without our block', () => {
    const record = pushed();
    const result = mergeGitlabSnapshot(
      record,
      snapshot(record, {
        title: 'Renamed',
        description: (record.gl_description ?? '').replace('Steps', 'New steps'),
      }),
    );
    expect(result).toMatchObject({
      kind: 'merged',
      changes: { title: { current: 'Renamed' }, description: { previous: 'Steps', current: 'New steps' } },
      restoreBlock: false,
    });
  });

  it('is forward only: older is stale, the same second with other content asks GitLab', () => {
    const record = pushed();
    expect(
      mergeGitlabSnapshot(
        record,
        snapshot(record, { state: 'closed', updatedAt: at('2026-12-01T09:59:00Z') }),
      ),
    ).toEqual({
      kind: 'stale',
    });
    expect(mergeGitlabSnapshot(record, snapshot(record, { updatedAt: at('2026-12-01T10:00:00Z') }))).toEqual({
      kind: 'stale',
    });
    expect(
      mergeGitlabSnapshot(
        record,
        snapshot(record, { state: 'closed', updatedAt: at('2026-12-01T10:00:00Z') }),
      ),
    ).toEqual({
      kind: 'ask_gitlab',
    });
  });

  it('recognises the echo of a write in flight: the field is no longer pending and nothing is reported', () => {
    const record = pushed({
      status: 'Closed',
      dirty: ['status'],
      field_times: { status: '2026-12-01T10:00:04Z' },
    });
    const result = mergeGitlabSnapshot(record, snapshot(record, { state: 'closed' }));
    expect(result).toMatchObject({ kind: 'merged', changes: {}, columns: { dirty: [], gl_state: 'closed' } });
  });

  it('lets the later edit win when both sides changed a field', () => {
    const testkaseFirst = pushed({
      title: 'From TestKase',
      dirty: ['title'],
      field_times: { title: '2026-12-01T10:00:02Z' },
    });
    expect(
      mergeGitlabSnapshot(
        testkaseFirst,
        snapshot(testkaseFirst, { title: 'From GitLab', updatedAt: at('2026-12-01T10:00:05Z') }),
      ),
    ).toMatchObject({
      changes: { title: { current: 'From GitLab' } },
      columns: { dirty: [], title: 'From GitLab' },
    });
    const gitlabFirst = pushed({
      title: 'From TestKase',
      dirty: ['title'],
      field_times: { title: '2026-12-01T10:00:09Z' },
    });
    expect(
      mergeGitlabSnapshot(
        gitlabFirst,
        snapshot(gitlabFirst, { title: 'From GitLab', updatedAt: at('2026-12-01T10:00:05Z') }),
      ),
    ).toMatchObject({ changes: {}, columns: { dirty: ['title'], title: 'From TestKase' } });
  });

  it('asks to restore our block when someone removed it, and clears a pending label once it is there', () => {
    const record = pushed({
      pending_label: 'priority::high',
      gl_labels: [],
      warnings: [{ code: 'LABEL_CREATION_FORBIDDEN', message: 'x' }],
    });
    const result = mergeGitlabSnapshot(
      record,
      snapshot(record, { description: 'Mine only', labels: ['priority::high'] }),
    );
    expect(result).toMatchObject({
      kind: 'merged',
      restoreBlock: true,
      changes: { description: { current: 'Mine only' } },
      columns: { pending_label: null, warnings: [] },
    });
  });
});
