import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { RequirementDeprecatedV1, type CloudEvent } from '@testkase/contracts';
import type { IssueSnapshot } from '@testkase/gitlab';

import { isFromTheFuture, sameContent, sameSecondConflict } from './issue-order';
import { movedToFromNote } from './moved-issue';
import { requirementEvents } from './requirement-events';
import { toUpsertRow, type ProjectContext } from './requirement-mapping';
import { toRequirementV1, type RequirementRecord } from './requirement.record';

const context: ProjectContext = {
  connectionId: '6f1c1a3e-0d7e-4c3b-9a57-1d2b3c4d5e6f',
  projectId: 'tk-1',
  instanceUrl: 'https://gitlab.example.com',
  gitlabProjectId: 4,
  projectWebUrl: 'https://gitlab.example.com/my-group/my-project',
};

const snapshot = (overrides: Partial<IssueSnapshot> = {}): IssueSnapshot => ({
  iid: 12,
  issueId: 900,
  title: 'Checkout keeps the cart',
  description: 'As a buyer I keep my cart.',
  state: 'opened',
  labels: ['backend'],
  confidential: false,
  webUrl: 'https://gitlab.example.com/my-group/my-project/-/issues/12',
  createdAt: new Date('2026-01-01T00:00:00.000Z'),
  updatedAt: new Date('2026-02-01T10:00:05.300Z'),
  updatedAtExact: true,
  source: 'rest',
  ...overrides,
});

const record = (overrides: Partial<RequirementRecord> = {}): RequirementRecord => ({
  id: '0b4f6a2e-8f4f-4f0c-9d64-6a3f0f2f9a11',
  project_id: 'tk-1',
  connection_id: context.connectionId,
  instance_url: 'https://gitlab.example.com',
  gitlab_project_id: '4',
  iid: 12,
  issue_id: '900',
  title: 'Checkout keeps the cart',
  description_markdown: 'As a buyer I keep my cart.',
  description_html: '<p>As a buyer I keep my cart.</p>\n',
  labels: ['backend'],
  priority: 'P2',
  priority_source: 'gitlab',
  priority_labels: [],
  status: 'Active',
  deprecated_reason: null,
  moved_to_issue_id: null,
  moved_to_iid: null,
  moved_to_url: null,
  confidential: false,
  web_url: 'https://gitlab.example.com/my-group/my-project/-/issues/12',
  gitlab_created_at: new Date('2026-01-01T00:00:00.000Z'),
  gitlab_updated_at: new Date('2026-02-01T10:00:05.000Z'),
  gitlab_updated_at_exact: false,
  sync_state: 'synced',
  source: 'webhook',
  needs_refresh: false,
  version: 3,
  changed_fields: [],
  testkase_edits: [],
  write_effects: null,
  created_at: new Date('2026-01-01T00:00:01.000Z'),
  updated_at: new Date('2026-02-01T10:00:06.000Z'),
  ...overrides,
});

describe('moved issues', () => {
  it("reads the new issue from the original's `moved to` note, relative to the original's project", () => {
    expect(
      movedToFromNote('moved to archive#3', 'my-group/my-project', 'https://gitlab.example.com'),
    ).toEqual({
      iid: 3,
      webUrl: 'https://gitlab.example.com/my-group/archive/-/issues/3',
    });
    expect(
      movedToFromNote(
        'moved to other-group/sub/app#41',
        'my-group/my-project',
        'https://gitlab.example.com/gitlab/',
      ),
    ).toEqual({ iid: 41, webUrl: 'https://gitlab.example.com/gitlab/other-group/sub/app/-/issues/41' });
  });

  it('ignores every other note', () => {
    for (const body of [
      'moved from archive#3',
      'closed',
      'cloned to archive#3',
      'moved to archive#x',
      'moved to',
    ])
      expect(movedToFromNote(body, 'my-group/my-project', 'https://gitlab.example.com')).toBeNull();
  });

  it('maps a moved snapshot to a Deprecated row that names the new issue', () => {
    const row = toUpsertRow(snapshot({ state: 'closed', movedToId: 2051 }), context);
    expect(row).toMatchObject({ status: 'Deprecated', moved_to_issue_id: 2051 });
    expect(toUpsertRow(snapshot(), context)).not.toHaveProperty('moved_to_issue_id');
  });
});

describe('deprecation reasons in the contract', () => {
  const deprecatedEvent = (changed: RequirementRecord) =>
    requirementEvents([{ record: changed, created: false }], { deprecatedReason: 'deleted_or_moved' })
      .messages.map((message) => message.event as CloudEvent<RequirementDeprecatedV1>)
      .find((event) => event.type === 'testkase.requirement.deprecated.v1');

  it.each([
    ['deleted', undefined],
    ['retyped', undefined],
    ['moved', { issueId: 2051, iid: 3, webUrl: 'https://gitlab.example.com/my-group/archive/-/issues/3' }],
  ] as const)(
    'a %s issue: deprecationReason in the requirement, the v1 reason deleted_or_moved',
    (reason, movedTo) => {
      const changed = record({
        status: 'Deprecated',
        deprecated_reason: reason,
        ...(movedTo
          ? {
              moved_to_issue_id: String(movedTo.issueId),
              moved_to_iid: movedTo.iid,
              moved_to_url: movedTo.webUrl,
            }
          : {}),
        changed_fields: ['status'],
      });
      const event = deprecatedEvent(changed);
      expect(event?.data).toMatchObject({
        reason: 'deleted_or_moved',
        requirement: { status: 'Deprecated', deprecationReason: reason, ...(movedTo ? { movedTo } : {}) },
      });
      expect(validateSync(plainToInstance(RequirementDeprecatedV1, event?.data))).toEqual([]);
    },
  );

  it('a closed issue keeps the reason closed; an Active requirement has no reason', () => {
    const closed = record({ status: 'Deprecated', deprecated_reason: 'closed', changed_fields: ['status'] });
    expect(deprecatedEvent(closed)?.data).toMatchObject({
      reason: 'closed',
      requirement: { deprecationReason: 'closed' },
    });
    const active = toRequirementV1(record());
    expect(active).not.toHaveProperty('deprecationReason');
    expect(active).not.toHaveProperty('movedTo');
  });

  it('a moved issue whose note was not readable names the new issue by id only', () => {
    const moved = toRequirementV1(
      record({ status: 'Deprecated', deprecated_reason: 'moved', moved_to_issue_id: '2051' }),
    );
    expect(moved.movedTo).toEqual({ issueId: 2051, iid: null, webUrl: null });
  });
});

describe('ordering what GitLab timestamps cannot order', () => {
  it('distrusts an updated_at beyond now plus the skew, and only that', () => {
    const now = Date.parse('2026-02-01T10:00:00.000Z');
    expect(isFromTheFuture(new Date(now + 3_600_000), 120_000, now)).toBe(true);
    expect(isFromTheFuture(new Date(now + 60_000), 120_000, now)).toBe(false);
    expect(isFromTheFuture(new Date(now - 60_000), 120_000, now)).toBe(false);
  });

  it('a listing snapshot in the second of a stored webhook, with other content, needs a fresh read', () => {
    const stored = record({ title: 'Renamed by the webhook' });
    const listed = toUpsertRow(snapshot(), context);
    expect(sameSecondConflict(stored, listed)).toBe(true);
    // Same content: the snapshot only refines the time.
    expect(sameSecondConflict(record(), listed)).toBe(false);
    // A later second, or a stored millisecond time, orders by time alone.
    const later = toUpsertRow(snapshot({ updatedAt: new Date('2026-02-01T10:00:06.100Z') }), context);
    expect(sameSecondConflict(stored, later)).toBe(false);
    expect(sameSecondConflict({ ...stored, gitlab_updated_at_exact: true }, listed)).toBe(false);
    // A webhook row is not a listing.
    const webhook = toUpsertRow(snapshot({ source: 'webhook', updatedAtExact: false }), context);
    expect(sameSecondConflict(stored, webhook)).toBe(false);
  });

  it('counts a move as a change of content', () => {
    expect(sameContent(record(), toUpsertRow(snapshot(), context))).toBe(true);
    expect(sameContent(record(), toUpsertRow(snapshot({ movedToId: 7 }), context))).toBe(false);
  });
});
