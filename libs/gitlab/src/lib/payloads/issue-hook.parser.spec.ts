import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ValidationError } from '@testkase/util';

import { otherWorkItemRef, parseIssueHook } from './issue-hook.parser';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(__dirname, '../../../test/fixtures/gitlab', name), 'utf8')) as Record<
    string,
    unknown
  >;

type Payload = { [key: string]: unknown; object_attributes: Record<string, unknown> };

/** A deep copy of a fixture with `edit` applied to it. */
function variant(name: string, edit: (payload: Payload) => void): Payload {
  const payload = structuredClone(fixture(name)) as Payload;
  edit(payload);
  return payload;
}

function rejection(payload: unknown): string {
  try {
    parseIssueHook(payload);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the payload to be rejected');
}

describe('parseIssueHook', () => {
  describe('every generation GitLab has sent', () => {
    it('reads the documented modern issue event (labels as objects under object_attributes)', () => {
      const result = parseIssueHook(fixture('webhook-issue-open.json'));
      expect(result).toEqual({
        kind: 'issue',
        iid: 23,
        missing: [],
        projectIds: [1, 14],
        snapshot: {
          iid: 23,
          issueId: 301,
          title: 'New API: create/update/delete file',
          description: 'Create new API for manipulations with repository',
          state: 'opened',
          labels: ['API'],
          confidential: false,
          webUrl: 'http://example.com/diaspora/issues/23',
          createdAt: new Date('2013-12-03T17:15:43Z'),
          updatedAt: new Date('2013-12-03T17:15:43Z'),
          updatedAtExact: false,
          source: 'webhook',
        },
      });
    });

    it('reads the 2018 generation: no event_type, description null, "… UTC" times, labels only at the top', () => {
      const result = parseIssueHook(fixture('real/webhook-issue-open-null-description-2018.json'));
      expect(result).toEqual({
        kind: 'issue',
        iid: 7,
        missing: [],
        projectIds: [3319043, 3319043],
        snapshot: {
          iid: 7,
          issueId: 9892394,
          title: 'Issue without description',
          description: '',
          state: 'opened',
          labels: [],
          confidential: false,
          webUrl: 'https://gitlab.com/eeshangarg/my-awesome-project/issues/7',
          createdAt: new Date('2018-03-23T17:35:53Z'),
          updatedAt: new Date('2018-03-23T17:35:53Z'),
          updatedAtExact: false,
          source: 'webhook',
        },
      });
    });

    it('recognises the 2026 work item of type Task as another work item, not an issue', () => {
      expect(parseIssueHook(fixture('real/webhook-work-item-task-open-2026.json'))).toEqual({
        kind: 'other_work_item',
        type: 'Task',
      });
    });

    it('reads a work item event of type Issue with millisecond timestamps as an issue', () => {
      const payload = variant('real/webhook-work-item-task-open-2026.json', (p) => {
        p.object_attributes.type = 'Issue';
        p.object_attributes.labels = [{ id: 1, title: 'priority::high' }];
      });
      const result = parseIssueHook(payload);
      expect(result.kind).toBe('issue');
      if (result.kind !== 'issue') return;
      expect(result.snapshot).toMatchObject({
        iid: 7,
        title: 'Sample Task.',
        labels: ['priority::high'],
        updatedAt: new Date('2026-05-28T06:14:44.830Z'),
        updatedAtExact: true,
        webUrl: 'https://gitlab.com/sathwikshetty33-group/mVc/-/work_items/7',
      });
    });

    it.each(['Epic', 'Objective', 'Key Result', 'Incident', 'Requirement', 'Test Case'])(
      'counts a %s as another work item type',
      (type) => {
        const payload = variant('webhook-issue-open.json', (p) => {
          p['object_kind'] = 'work_item';
          p.object_attributes.type = type;
        });
        expect(parseIssueHook(payload)).toEqual({ kind: 'other_work_item', type });
      },
    );

    it('names an unknown work item type Other (bounded metric labels)', () => {
      const payload = variant('webhook-issue-open.json', (p) => (p.object_attributes.type = 'Spaceship'));
      expect(parseIssueHook(payload)).toEqual({ kind: 'other_work_item', type: 'Other' });
    });

    it('takes confidentiality from event_type when the attribute is missing', () => {
      const payload = variant('webhook-issue-open.json', (p) => {
        delete p.object_attributes.confidential;
        p['event_type'] = 'confidential_issue';
      });
      const result = parseIssueHook(payload);
      expect(result.kind === 'issue' && result.snapshot?.confidential).toBe(true);
    });

    it('takes the state from state_id, and the old "reopened" state as opened', () => {
      const fromId = variant('webhook-issue-open.json', (p) => {
        delete p.object_attributes.state;
        p.object_attributes.state_id = 2;
      });
      const reopened = variant('webhook-issue-open.json', (p) => (p.object_attributes.state = 'reopened'));
      expect(parseIssueHook(fromId)).toMatchObject({ snapshot: { state: 'closed' } });
      expect(parseIssueHook(reopened)).toMatchObject({ snapshot: { state: 'opened' } });
    });

    it('falls back to changes.updated_at when object_attributes has none', () => {
      const payload = variant('webhook-issue-open.json', (p) => delete p.object_attributes.updated_at);
      expect(parseIssueHook(payload)).toMatchObject({
        snapshot: { updatedAt: new Date('2017-09-15T16:52:00Z'), updatedAtExact: false },
      });
    });

    it('says which fields are missing instead of guessing them (the issue is then fetched over REST)', () => {
      const payload = variant('real/webhook-issue-open-null-description-2018.json', (p) => {
        delete p['labels'];
        delete p.object_attributes.description;
        delete p.object_attributes.updated_at;
        delete p['changes'];
      });
      expect(parseIssueHook(payload)).toEqual({
        kind: 'issue',
        iid: 7,
        projectIds: [3319043, 3319043],
        missing: ['description', 'labels', 'updated_at'],
        snapshot: null,
      });
    });
  });

  describe('bad input', () => {
    it.each([
      ['a list', [1, 2]],
      ['a string', 'issue'],
      ['null', null],
    ])('refuses a body that is %s', (_name, payload) => {
      expect(rejection(payload)).toContain('not a JSON object');
    });

    it('refuses a note event', () => {
      expect(rejection(fixture('real/webhook-confidential-note-issue-2023.json'))).toContain('object_kind');
    });

    it('refuses an issue event without object_attributes', () => {
      expect(
        rejection(
          variant(
            'webhook-issue-open.json',
            (p) => delete (p as Record<string, unknown>)['object_attributes'],
          ),
        ),
      ).toContain('object_attributes is missing');
    });

    it.each([0, -3, 1.5, '7', null, 2 ** 60])('refuses the iid %p', (iid) => {
      expect(rejection(variant('webhook-issue-open.json', (p) => (p.object_attributes.iid = iid)))).toContain(
        'object_attributes.iid must be a positive integer',
      );
    });

    it('refuses a 10 MB title', () => {
      const payload = variant(
        'webhook-issue-open.json',
        (p) => (p.object_attributes.title = 'x'.repeat(10_000_000)),
      );
      expect(rejection(payload)).toContain('object_attributes.title is longer than 1024 characters');
    });

    it('refuses a description beyond GitLab’s own limit', () => {
      const payload = variant(
        'webhook-issue-open.json',
        (p) => (p.object_attributes.description = 'd'.repeat(1_048_577)),
      );
      expect(rejection(payload)).toContain('description is longer than');
    });

    it.each([
      ['title', 42, 'object_attributes.title must be a string'],
      ['description', { html: true }, 'object_attributes.description must be a string'],
      ['confidential', 'yes', 'object_attributes.confidential must be a boolean'],
      ['state', 'merged', 'object_attributes.state must be opened or closed'],
      ['updated_at', 1700000000, 'object_attributes.updated_at must be a timestamp string'],
      ['updated_at', 'yesterday', 'object_attributes.updated_at is not a GitLab timestamp'],
      ['labels', 'API', 'object_attributes.labels must be a list'],
      ['labels', [{ title: 7 }], 'object_attributes.labels[0] must be a string'],
      ['type', 3, 'object_attributes.type must be a string'],
      ['project_id', 'fourteen', 'object_attributes.project_id must be a positive integer'],
    ])('refuses object_attributes.%s = %p', (field, value, reason) => {
      expect(
        rejection(variant('webhook-issue-open.json', (p) => (p.object_attributes[field] = value))),
      ).toContain(reason);
    });

    it('refuses an event that names no project', () => {
      const payload = variant('webhook-issue-open.json', (p) => {
        delete p['project'];
        delete p.object_attributes.project_id;
      });
      expect(rejection(payload)).toContain('no project id');
    });

    it('refuses a label longer than GitLab allows', () => {
      const payload = variant(
        'webhook-issue-open.json',
        (p) => (p.object_attributes.labels = [{ title: 'l'.repeat(256) }]),
      );
      expect(rejection(payload)).toContain('labels[0] is longer than 255 characters');
    });

    it('refuses labels too large in all for any event to carry them (1,000 of 255 characters)', () => {
      const many = (length: number) =>
        Array.from({ length: 1_000 }, (_, n) => ({ title: `${n}`.padEnd(length, 'l') }));
      const payload = variant('webhook-issue-open.json', (p) => (p.object_attributes.labels = many(255)));
      expect(rejection(payload)).toContain('labels has more than 65536 characters in all');
      const fits = variant('webhook-issue-open.json', (p) => (p.object_attributes.labels = many(65)));
      expect(() => parseIssueHook(fits)).not.toThrow();
    });
  });

  describe('moves and retypes', () => {
    it('reads moved_to_id of a moved (closed) issue, and leaves it out while the issue was not moved', () => {
      const moved = variant('webhook-issue-open.json', (p) => {
        p.object_attributes['state'] = 'closed';
        p.object_attributes['action'] = 'close';
        p.object_attributes['moved_to_id'] = 4242;
      });
      const result = parseIssueHook(moved);
      expect(result.kind === 'issue' && result.snapshot).toMatchObject({ state: 'closed', movedToId: 4242 });
      const plain = parseIssueHook(fixture('webhook-issue-open.json'));
      expect(plain.kind === 'issue' && plain.snapshot && 'movedToId' in plain.snapshot).toBe(false);
    });

    it('names the issue a work item event of another type is about (a retype to Task or Incident)', () => {
      expect(otherWorkItemRef(fixture('real/webhook-work-item-task-open-2026.json'))).toMatchObject({
        type: 'Task',
        iid: expect.any(Number),
        projectIds: expect.arrayContaining([expect.any(Number)]),
        updatedAt: expect.any(Date),
        updatedAtExact: true,
      });
      // GitLab's REST API updates an Issue record: object_kind issue, type Incident.
      const incident = variant('webhook-issue-open.json', (p) => {
        p.object_attributes.type = 'Incident';
        p.object_attributes['action'] = 'update';
      });
      expect(otherWorkItemRef(incident)).toEqual({
        iid: 23,
        issueId: 301,
        projectIds: [1, 14],
        type: 'Incident',
        updatedAt: new Date('2013-12-03T17:15:43Z'),
        updatedAtExact: false,
      });
    });

    it('names nothing for an issue, or for a work item without a usable iid or time', () => {
      expect(otherWorkItemRef(fixture('webhook-issue-open.json'))).toBeNull();
      const noIid = variant('real/webhook-work-item-task-open-2026.json', (p) => {
        delete p.object_attributes.iid;
      });
      expect(otherWorkItemRef(noIid)).toBeNull();
      const noTime = variant('real/webhook-work-item-task-open-2026.json', (p) => {
        delete p.object_attributes.updated_at;
        delete p['changes'];
      });
      expect(otherWorkItemRef(noTime)).toBeNull();
    });
  });
});
