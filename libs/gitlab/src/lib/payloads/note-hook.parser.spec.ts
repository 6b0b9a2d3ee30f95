import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ValidationError } from '@testkase/util';

import type { GitlabNote } from '../gitlab-rest.types';
import { MAX_NOTE_CHARS, parseNoteHook } from './note-hook.parser';
import type { NoteSnapshot } from './note-snapshot';
import { snapshotFromRestNote } from './rest-note';

const fixtureText = (name: string): string =>
  readFileSync(path.join(__dirname, '../../../test/fixtures/gitlab', name), 'utf8');

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fixtureText(name)) as Record<string, unknown>;

type Payload = {
  [key: string]: unknown;
  object_attributes: Record<string, unknown>;
  issue: Record<string, unknown>;
  user: Record<string, unknown>;
};

/** A deep copy of a fixture with `edit` applied to it. */
function variant(name: string, edit: (payload: Payload) => void): Payload {
  const payload = structuredClone(fixture(name)) as Payload;
  edit(payload);
  return payload;
}

function rejection(payload: unknown): string {
  try {
    parseNoteHook(payload);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the payload to be rejected');
}

function snapshotOf(payload: unknown): NoteSnapshot {
  const result = parseNoteHook(payload);
  if (result.kind !== 'issue_note') throw new Error(`expected an issue note, got ${result.kind}`);
  return result.snapshot;
}

/** The documented modern example (`webhook-note-issue.json`) as a snapshot. */
const DOCUMENTED: NoteSnapshot = {
  noteId: 1241,
  body: 'Hello world',
  authorId: 1,
  author: { id: 1, username: 'root', name: 'Administrator' },
  system: false,
  internal: false,
  issueIid: 17,
  issueId: 92,
  issueConfidential: null,
  createdAt: new Date('2015-05-17T17:06:40Z'),
  updatedAt: new Date('2015-05-17T17:06:40Z'),
  updatedAtExact: false,
  url: 'http://example.com/gitlab-org/gitlab-test/issues/17#note_1241',
  action: 'create',
  source: 'webhook',
};

/** The 2023 gitlab.com capture of an internal note (`real/webhook-confidential-note-issue-2023.json`). */
const INTERNAL_2023: NoteSnapshot = {
  noteId: 1406130881,
  body: 'Some more comments',
  authorId: 14613894,
  author: { id: 14613894, username: 'sbansal1999', name: 'Satyam Bansal' },
  system: false,
  internal: true,
  issueIid: 1,
  issueId: 128231959,
  issueConfidential: false,
  createdAt: new Date('2023-05-25T17:12:06Z'),
  updatedAt: new Date('2023-05-25T17:12:06Z'),
  updatedAtExact: false,
  url: 'https://gitlab.com/sbansal1999/testing-zulip-gitlab-integration/-/issues/1#note_1406130881',
  action: null,
  source: 'webhook',
};

describe('parseNoteHook', () => {
  describe('every generation GitLab has sent', () => {
    it('reads the documented modern comment on an issue (internal, action, user with id)', () => {
      expect(parseNoteHook(fixture('webhook-note-issue.json'))).toEqual({
        kind: 'issue_note',
        projectIds: [5],
        snapshot: DOCUMENTED,
      });
    });

    it('reads the 2016 capture: no event_type, user without id, "… UTC" times, no action, no internal', () => {
      expect(parseNoteHook(fixture('real/webhook-note-issue-2016.json'))).toEqual({
        kind: 'issue_note',
        projectIds: [1534233],
        snapshot: {
          noteId: 14172057,
          body: 'Nice issue. See ![this image](/uploads/deadbeef.png)',
          authorId: 670043,
          author: { id: 670043, username: null, name: null },
          system: false,
          internal: false,
          issueIid: 2,
          issueId: 2788403,
          issueConfidential: false,
          createdAt: new Date('2016-08-22T19:46:01Z'),
          updatedAt: new Date('2016-08-22T19:46:01Z'),
          updatedAtExact: false,
          url: 'https://gitlab.com/tomaszkolek0/my-awesome-project/issues/2#note_14172057',
          action: null,
          source: 'webhook',
        },
      });
    });

    it('reads the 2018 capture of a comment on a confidential issue: confidential_note, yet not internal', () => {
      expect(parseNoteHook(fixture('real/webhook-confidential-note-confidential-issue-2018.json'))).toEqual({
        kind: 'issue_note',
        projectIds: [8385998],
        snapshot: {
          noteId: 101638770,
          body: 'Test',
          authorId: 1102929,
          author: { id: 1102929, username: null, name: null },
          system: false,
          internal: false,
          issueIid: 3,
          issueId: 14177506,
          issueConfidential: true,
          createdAt: new Date('2018-09-15T21:01:07Z'),
          updatedAt: new Date('2018-09-15T21:01:07Z'),
          updatedAtExact: false,
          url: 'https://gitlab.com/joebloggs/test/issues/3#note_101638770',
          action: null,
          source: 'webhook',
        },
      });
    });

    it('reads the documented body from before internal and action (event_type note)', () => {
      expect(parseNoteHook(fixture('webhook-note-issue-2019.json'))).toEqual({
        kind: 'issue_note',
        projectIds: [5],
        snapshot: { ...DOCUMENTED, action: null },
      });
    });

    it('reads the 2023 internal note that has no internal field from its confidential_note event type', () => {
      expect(parseNoteHook(fixture('real/webhook-confidential-note-issue-2023.json'))).toEqual({
        kind: 'issue_note',
        projectIds: [46186758],
        snapshot: INTERNAL_2023,
      });
    });

    it('reads object_attributes.confidential, the older name of internal', () => {
      const reconstructed = 'reconstructed/webhook-internal-note-confidential-field.json';
      expect(snapshotOf(fixture(reconstructed))).toEqual(INTERNAL_2023);
      // The field alone decides, even where event_type would not say so.
      const flagOnly = variant(reconstructed, (p) => (p['event_type'] = 'note'));
      expect(snapshotOf(flagOnly).internal).toBe(true);
      const notInternal = variant(reconstructed, (p) => {
        p['event_type'] = 'note';
        p.object_attributes['confidential'] = false;
      });
      expect(snapshotOf(notInternal).internal).toBe(false);
      // Should the two names ever disagree, the note counts as internal.
      const disagreeing = variant(reconstructed, (p) => {
        p['event_type'] = 'note';
        p.object_attributes['internal'] = false;
      });
      expect(snapshotOf(disagreeing).internal).toBe(true);
    });

    it('reads an internal note with object_attributes.internal', () => {
      expect(snapshotOf(fixture('reconstructed/webhook-internal-note-issue.json'))).toEqual({
        ...DOCUMENTED,
        internal: true,
      });
    });

    it('reads an edit (action update) by another user: the author is known by id only', () => {
      expect(parseNoteHook(fixture('reconstructed/webhook-note-issue-update.json'))).toEqual({
        kind: 'issue_note',
        projectIds: [5],
        snapshot: {
          ...DOCUMENTED,
          body: 'Hello world (edited)',
          author: { id: 1, username: null, name: null },
          updatedAt: new Date('2015-05-18T09:12:03Z'),
          action: 'update',
        },
      });
    });

    it('takes the author from user on an edit by the author', () => {
      const payload = variant('reconstructed/webhook-note-issue-update.json', (p) => (p.user['id'] = 1));
      expect(snapshotOf(payload).author).toEqual({ id: 1, username: 'maintainer', name: 'Maintainer' });
    });

    it('reads system when present (GitLab sends no hook for system notes)', () => {
      expect(snapshotOf(fixture('reconstructed/webhook-system-note-issue.json'))).toMatchObject({
        noteId: 1242,
        body: 'changed the description',
        system: true,
      });
    });

    it('reads millisecond ISO timestamps as exact', () => {
      const payload = variant('webhook-note-issue.json', (p) => {
        p.object_attributes['created_at'] = '2026-05-28T06:14:44.830Z';
        p.object_attributes['updated_at'] = '2026-05-28T06:15:02.114Z';
      });
      expect(snapshotOf(payload)).toMatchObject({
        createdAt: new Date('2026-05-28T06:14:44.830Z'),
        updatedAt: new Date('2026-05-28T06:15:02.114Z'),
        updatedAtExact: true,
      });
    });

    it('has no author without author_id, and takes the issue id from noteable_id when the issue has none', () => {
      const payload = variant('webhook-note-issue.json', (p) => {
        delete p.object_attributes['author_id'];
        delete p.issue['id'];
      });
      expect(snapshotOf(payload)).toMatchObject({ authorId: null, author: null, issueId: 92 });
    });

    it('counts a confidential_note as internal when the issue’s confidentiality is unknown (fail closed)', () => {
      const payload = variant('webhook-note-issue-2019.json', (p) => (p['event_type'] = 'confidential_note'));
      expect(snapshotOf(payload)).toMatchObject({ internal: true, issueConfidential: null });
    });
  });

  describe('comments on anything else', () => {
    it('recognises the 2023 capture of a merge request comment', () => {
      expect(parseNoteHook(fixture('real/webhook-note-merge-request-2023.json'))).toEqual({
        kind: 'other_noteable',
        noteableType: 'MergeRequest',
      });
    });

    it.each([
      'Commit',
      'Snippet',
      'Epic',
      'DesignManagement::Design',
      'AlertManagement::Alert',
      'Vulnerability',
    ])('recognises a comment on a %s', (noteableType) => {
      const payload = variant('webhook-note-issue.json', (p) => {
        p.object_attributes['noteable_type'] = noteableType;
        delete (p as Record<string, unknown>)['issue'];
      });
      expect(parseNoteHook(payload)).toEqual({ kind: 'other_noteable', noteableType });
    });

    it('names an unknown noteable type Other (bounded metric labels)', () => {
      const payload = variant(
        'webhook-note-issue.json',
        (p) => (p.object_attributes['noteable_type'] = 'Spaceship'),
      );
      expect(parseNoteHook(payload)).toEqual({ kind: 'other_noteable', noteableType: 'Other' });
    });

    it.each(['Task', 'Incident', 'Objective', 'Key Result', 'Test Case', 'Requirement'])(
      'recognises a comment on a work item of type %s (noteable_type Issue, type in the issue object)',
      (type) => {
        const payload = variant('webhook-note-issue.json', (p) => (p.issue['type'] = type));
        expect(parseNoteHook(payload)).toEqual({ kind: 'other_noteable', noteableType: type });
      },
    );

    it('reads a comment on a work item of type Issue as an issue note', () => {
      const payload = variant('webhook-note-issue.json', (p) => (p.issue['type'] = 'Issue'));
      expect(snapshotOf(payload)).toEqual(DOCUMENTED);
    });

    describe('noteable_type WorkItem', () => {
      const asWorkItem = (edit: (item: Record<string, unknown>) => void = () => undefined): Payload =>
        variant('webhook-note-issue.json', (p) => {
          p.object_attributes['noteable_type'] = 'WorkItem';
          const item = p.issue;
          delete (p as Record<string, unknown>)['issue'];
          edit(item);
          p['work_item'] = item;
        });

      it('reads the work_item of type Issue, or of no type, as an issue note', () => {
        expect(snapshotOf(asWorkItem((item) => (item['type'] = 'Issue')))).toEqual(DOCUMENTED);
        expect(snapshotOf(asWorkItem())).toEqual(DOCUMENTED);
      });

      it('reads the item under issue when work_item is absent', () => {
        const payload = variant(
          'webhook-note-issue.json',
          (p) => (p.object_attributes['noteable_type'] = 'WorkItem'),
        );
        expect(snapshotOf(payload)).toEqual(DOCUMENTED);
      });

      it('recognises another type, an item without iid, and a missing item as other noteables', () => {
        expect(parseNoteHook(asWorkItem((item) => (item['type'] = 'Task')))).toEqual({
          kind: 'other_noteable',
          noteableType: 'Task',
        });
        expect(parseNoteHook(asWorkItem((item) => delete item['iid']))).toEqual({
          kind: 'other_noteable',
          noteableType: 'WorkItem',
        });
        const bare = variant('webhook-note-issue.json', (p) => {
          p.object_attributes['noteable_type'] = 'WorkItem';
          delete (p as Record<string, unknown>)['issue'];
        });
        expect(parseNoteHook(bare)).toEqual({ kind: 'other_noteable', noteableType: 'WorkItem' });
      });
    });
  });

  describe('bad input', () => {
    it.each([
      ['a list', [1, 2]],
      ['a string', 'note'],
      ['a number', 42],
      ['null', null],
      ['undefined', undefined],
    ])('refuses a body that is %s', (_name, payload) => {
      expect(rejection(payload)).toContain('the body is not a JSON object');
    });

    it.each([
      ['an issue event', 'webhook-issue-open.json'],
      ['a work item event', 'real/webhook-work-item-task-open-2026.json'],
    ])('refuses %s', (_name, name) => {
      expect(rejection(fixture(name))).toContain('object_kind must be note');
    });

    it('refuses a note event without object_attributes, noteable_type or issue', () => {
      const noAttributes = variant(
        'webhook-note-issue.json',
        (p) => delete (p as Record<string, unknown>)['object_attributes'],
      );
      const noType = variant('webhook-note-issue.json', (p) => delete p.object_attributes['noteable_type']);
      const noIssue = variant(
        'webhook-note-issue.json',
        (p) => delete (p as Record<string, unknown>)['issue'],
      );
      expect(rejection(noAttributes)).toContain('object_attributes is missing');
      expect(rejection(noType)).toContain('object_attributes.noteable_type must be a string');
      expect(rejection(noIssue)).toContain('issue is missing');
    });

    it.each([0, -3, 1.5, '7', null, 2 ** 60])('refuses the issue iid %p', (iid) => {
      expect(rejection(variant('webhook-note-issue.json', (p) => (p.issue['iid'] = iid)))).toContain(
        'issue.iid must be a positive integer',
      );
    });

    it.each([
      ['id', -1, 'object_attributes.id must be a positive integer'],
      ['id', '1241', 'object_attributes.id must be a positive integer'],
      ['author_id', 0, 'object_attributes.author_id must be a positive integer'],
      ['noteable_id', -92, 'object_attributes.noteable_id must be a positive integer'],
      ['noteable_id', 93, 'object_attributes.noteable_id does not match issue.id'],
      ['project_id', 'five', 'object_attributes.project_id must be a positive integer'],
      ['note', null, 'object_attributes.note must be a string'],
      ['note', { markdown: 'x' }, 'object_attributes.note must be a string'],
      ['system', 'false', 'object_attributes.system must be a boolean'],
      ['internal', 'yes', 'object_attributes.internal must be a boolean'],
      ['confidential', 1, 'object_attributes.confidential must be a boolean'],
      ['created_at', 1431882400, 'object_attributes.created_at must be a timestamp string'],
      ['updated_at', 'yesterday', 'object_attributes.updated_at is not a GitLab timestamp'],
      ['updated_at', undefined, 'object_attributes.updated_at must be a timestamp string'],
      ['action', 'delete', 'object_attributes.action must be create or update'],
      ['url', 42, 'object_attributes.url must be a string'],
      [
        'url',
        `http://example.com/${'u'.repeat(2_048)}`,
        'object_attributes.url is longer than 2048 characters',
      ],
    ])('refuses object_attributes.%s = %p', (field, value, reason) => {
      expect(
        rejection(variant('webhook-note-issue.json', (p) => (p.object_attributes[field] = value))),
      ).toContain(reason);
    });

    it.each([
      ['event_type', 'issue', 'event_type must be note or confidential_note'],
      ['user', [1], 'user must be an object'],
      ['project', 'gitlab-test', 'project must be an object'],
      ['issue', 'issue #17', 'issue must be an object'],
      ['project_id', -5, 'project_id must be a positive integer'],
    ])('refuses %s = %p', (field, value, reason) => {
      expect(rejection(variant('webhook-note-issue.json', (p) => (p[field] = value)))).toContain(reason);
    });

    it.each([
      ['user', 'id', -1, 'user.id must be a positive integer'],
      ['user', 'username', 'u'.repeat(256), 'user.username is longer than 255 characters'],
      ['user', 'name', 7, 'user.name must be a string'],
      ['issue', 'type', 4, 'issue.type must be a string'],
      ['issue', 'confidential', 'no', 'issue.confidential must be a boolean'],
      ['issue', 'id', 0, 'issue.id must be a positive integer'],
    ])('refuses %s.%s = %p', (object, field, value, reason) => {
      const payload = variant(
        'webhook-note-issue.json',
        (p) => ((p[object] as Record<string, unknown>)[field] = value),
      );
      expect(rejection(payload)).toContain(reason);
    });

    it('refuses an event that names no project', () => {
      const payload = variant('webhook-note-issue.json', (p) => {
        delete p['project'];
        delete p['project_id'];
        delete p.object_attributes['project_id'];
        delete p.issue['project_id'];
      });
      expect(rejection(payload)).toContain('no project id');
    });

    describe('the body limit', () => {
      const withBody = (body: string): Payload =>
        variant('webhook-note-issue.json', (p) => (p.object_attributes['note'] = body));

      it('accepts a body of exactly 1,000,000 characters', () => {
        expect(snapshotOf(withBody('b'.repeat(MAX_NOTE_CHARS))).body).toHaveLength(MAX_NOTE_CHARS);
      });

      it('refuses a body of 1,000,001 characters', () => {
        expect(rejection(withBody('b'.repeat(MAX_NOTE_CHARS + 1)))).toContain(
          "object_attributes.note is longer than GitLab's limit of 1000000 characters",
        );
      });

      it('counts characters as GitLab does: 1,000,000 emoji (2,000,000 UTF-16 units) pass, one more does not', () => {
        expect(snapshotOf(withBody('😀'.repeat(MAX_NOTE_CHARS))).body).toHaveLength(2 * MAX_NOTE_CHARS);
        expect(rejection(withBody('😀'.repeat(MAX_NOTE_CHARS + 1)))).toContain('longer than');
      });
    });

    describe('prototype pollution', () => {
      const text = fixtureText('webhook-note-issue.json');
      const inject = (anchor: string, key: string): unknown =>
        JSON.parse(
          text.replace(anchor, `${anchor}\n"${key}": { "polluted": true, "note": "evil", "iid": 1 },`),
        );

      afterEach(() => {
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      });

      it.each([
        ['the body', '__proto__', '{'],
        ['object_attributes', '__proto__', '"object_attributes": {'],
        ['issue', '__proto__', '"issue": {'],
        ['user', '__proto__', '"user": {'],
        ['project', 'constructor', '"project":{'],
        ['object_attributes', 'prototype', '"object_attributes": {'],
      ])('refuses %s carrying the key %s', (field, key, anchor) => {
        expect(rejection(inject(anchor, key))).toContain(
          `${field} has the key "${key}", which GitLab never sends`,
        );
      });

      it('refuses objects whose fields would come from their prototype', () => {
        const attributes = Object.create(
          fixture('webhook-note-issue.json')['object_attributes'] as object,
        ) as object;
        const payload = variant(
          'webhook-note-issue.json',
          (p) => (p.object_attributes = attributes as Record<string, unknown>),
        );
        expect(rejection(payload)).toContain('object_attributes is not a plain JSON object');
      });
    });
  });
});

describe('snapshotFromRestNote', () => {
  const restNotes = JSON.parse(fixtureText('api-issue-notes-list.json')) as GitlabNote[];
  const [closed, internal] = restNotes as [GitlabNote, GitlabNote];
  const restVariant = (note: GitlabNote, edit: Record<string, unknown>): GitlabNote =>
    ({ ...structuredClone(note), ...edit }) as GitlabNote;

  it('reads the documented notes', () => {
    expect(snapshotFromRestNote(closed, 377)).toEqual({
      noteId: 302,
      body: 'closed',
      authorId: 1,
      author: { id: 1, username: 'pipin', name: 'Pip' },
      system: true,
      internal: false,
      issueIid: 377,
      issueId: 377,
      issueConfidential: null,
      createdAt: new Date('2013-10-02T09:22:45Z'),
      updatedAt: new Date('2013-10-02T10:22:45Z'),
      updatedAtExact: false,
      url: null,
      action: null,
      source: 'rest',
    });
    expect(snapshotFromRestNote(internal, 121)).toMatchObject({
      noteId: 305,
      body: 'Text of the comment\r\n',
      internal: true,
      issueIid: 121,
    });
  });

  it('reads milliseconds, the older confidential flag and a missing author', () => {
    const note = restVariant(closed, {
      updated_at: '2013-10-02T10:22:45.123Z',
      internal: undefined,
      confidential: true,
      author: null,
    });
    expect(snapshotFromRestNote(note, 377)).toMatchObject({
      updatedAt: new Date('2013-10-02T10:22:45.123Z'),
      updatedAtExact: true,
      internal: true,
      authorId: null,
      author: null,
    });
  });

  it.each([
    ['another issue', {}, 378],
    ['an invalid issue iid', {}, 0],
    ['a note on a merge request', { noteable_type: 'MergeRequest' }, 377],
    ['a negative id', { id: -302 }, 377],
    ['a body that is not a string', { body: null }, 377],
    ['a body beyond the limit', { body: 'b'.repeat(MAX_NOTE_CHARS + 1) }, 377],
    ['a broken timestamp', { updated_at: 'soon' }, 377],
    ['an internal flag that is not a boolean', { internal: 'yes' }, 377],
  ])('skips %s', (_name, edit, issueIid) => {
    expect(snapshotFromRestNote(restVariant(closed, edit), issueIid)).toBeNull();
  });
});
