import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  gitlabEventSubject,
  type DefectCommentAddedV1,
  type DefectCommentDeletedV1,
  type DefectCommentEditedV1,
} from '@testkase/contracts';
import { eventually } from '@testkase/testing';

import { CommentWorld, type LinkedProject } from './support/comment-world';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('comment-relay: linked test cases and defect comments', () => {
  let world: CommentWorld;
  let project: LinkedProject;

  beforeAll(async () => {
    world = await CommentWorld.start('comment-relay');
    project = await world.linkedProject();
  }, 180_000);

  afterAll(async () => {
    await world?.stop();
  });

  /** Our linked-test-cases notes on an issue. */
  const linkNotes = async (iid: number) =>
    (await world.notes(project.gitlab, iid)).filter((note) =>
      note.body.includes('<!-- testkase:test-cases -->'),
    );

  it('keeps exactly one comment listing the linked test cases, and deletes it when the last goes', async () => {
    const requirement = await world.requirement(project);
    const first = await world.link(project.projectId, requirement.id, 'TC-1', {
      title: 'Pay with a saved card',
      status: 'Passed',
    });
    expect([200, 202]).toContain(first.status);
    await world.link(project.projectId, requirement.id, 'TC-2', {
      title: 'Pay with [a](javascript:alert(1)) <b>new</b> card',
    });
    await eventually(
      async () => {
        const notes = await linkNotes(requirement.iid);
        expect(notes).toHaveLength(1);
        expect(notes[0]!.body).toContain('Linked TestKase test cases');
        expect(notes[0]!.body).toContain('[Pay with a saved card](https://testkase.example.com/tc/TC-1)');
        expect(notes[0]!.body).toContain('| Passed |');
        expect(notes[0]!.body).toContain('TC-2');
        expect(notes[0]!.body).not.toContain('](javascript:');
        expect(notes[0]!.body).not.toContain('<b>');
      },
      { timeoutMs: 20_000 },
    );
    const noteId = (await linkNotes(requirement.iid))[0]!.id;

    const listed = await world.links(project.projectId, requirement.id);
    expect(listed.body.testCases?.map((link) => link.testCaseId)).toEqual(['TC-1', 'TC-2']);
    await eventually(async () =>
      expect((await world.links(project.projectId, requirement.id)).body.comment).toMatchObject({
        noteId,
        syncStatus: 'synced',
      }),
    );

    // Edited in place.
    await world.unlink(project.projectId, requirement.id, 'TC-1');
    await eventually(
      async () => {
        const notes = await linkNotes(requirement.iid);
        expect(notes.map((note) => note.id)).toEqual([noteId]);
        expect(notes[0]!.body).not.toContain('TC-1');
      },
      { timeoutMs: 20_000 },
    );

    // The last link goes: the comment goes.
    await world.unlink(project.projectId, requirement.id, 'TC-2');
    await eventually(async () => expect(await linkNotes(requirement.iid)).toHaveLength(0), {
      timeoutMs: 20_000,
    });
    expect((await world.unlink(project.projectId, requirement.id, 'TC-2')).status).toBe(404);
  });

  it('coalesces 200 rapid link changes into a few writes with the exact final list', async () => {
    const requirement = await world.requirement(project);
    const since = Date.now();
    for (let index = 0; index < 200; index += 1) {
      const id = `TC-${index % 40}`;
      if (index % 5 === 4) await world.unlink(project.projectId, requirement.id, `TC-${(index - 1) % 40}`);
      else await world.link(project.projectId, requirement.id, id, { status: `run ${index}` });
    }
    const expected = (await world.links(project.projectId, requirement.id)).body.testCases!;
    await eventually(
      async () => {
        const { body } = await world.links(project.projectId, requirement.id);
        expect(body.comment?.syncStatus).toBe('synced');
        const notes = await linkNotes(requirement.iid);
        expect(notes).toHaveLength(1);
        for (const link of expected) expect(notes[0]!.body).toContain(`| ${link.key} |`);
        expect(notes[0]!.body).toContain(`${expected.length} test case`);
      },
      { timeoutMs: 30_000 },
    );
    const writes = await world.noteWritesSince(project.gitlab, since);
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(10);
  });

  it('writes about once per LINK_MAX_DELAY while changes keep coming, never in bursts', async () => {
    const requirement = await world.requirement(project);
    const since = Date.now();
    // Changes without a quiet moment for three times LINK_MAX_DELAY (3 s in this stack), from four
    // callers at once, so that changes land while a write is in flight.
    let index = 0;
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        while (Date.now() - since < 9_000) {
          const run = index++;
          await world.link(project.projectId, requirement.id, `TC-${run % 10}`, { status: `run ${run}` });
        }
      }),
    );
    const expected = (await world.links(project.projectId, requirement.id)).body.testCases!;
    await eventually(
      async () => {
        const { body } = await world.links(project.projectId, requirement.id);
        expect(body.comment?.syncStatus).toBe('synced');
        const notes = await linkNotes(requirement.iid);
        expect(notes).toHaveLength(1);
        for (const link of expected) expect(notes[0]!.body).toContain(`| ${link.status} |`);
      },
      { timeoutMs: 20_000 },
    );
    const writes = await world.noteWritesSince(project.gitlab, since);
    // One write per max delay (about 3 in 9 s) and the last one; a debounce that lost track of
    // its first unwritten change wrote again right after every write.
    expect(writes).toBeGreaterThanOrEqual(2);
    expect(writes).toBeLessThanOrEqual(6);
  });

  it('writes an internal note on a confidential issue, and recreates a comment someone deleted', async () => {
    const requirement = await world.requirement(project, { confidential: true });
    await world.link(project.projectId, requirement.id, 'TC-SECRET', {});
    const note = await eventually(
      async () => {
        const notes = await linkNotes(requirement.iid);
        expect(notes).toHaveLength(1);
        return notes[0]!;
      },
      { timeoutMs: 20_000 },
    );
    expect(note.internal).toBe(true);

    await project.gitlab.sim.deleteNote(project.gitlab.id, requirement.iid, note.id);
    await world.resync(project.projectId);
    await eventually(
      async () => {
        const notes = await linkNotes(requirement.iid);
        expect(notes).toHaveLength(1);
        expect(notes[0]!.id).not.toBe(note.id);
        expect(notes[0]!.internal).toBe(true);
      },
      { timeoutMs: 30_000 },
    );
  });

  it('does not take a note a paged listing skipped for a deleted one: no second comment', async () => {
    // GitLab pages notes by offset (docs/GITLAB.md, "Pagination"): a note deleted between two
    // pages of a sweep's listing shifts the next page by one, so the note at the boundary is in
    // neither. Here it is our comment, the 101st note, first of page 2 (the sweep reads 100 a page).
    const requirement = await world.requirement(project);
    const { sim, id: gitlabProject, developer } = project.gitlab;
    const theirs: number[] = [];
    for (let n = 1; n <= 100; n += 1) {
      const added = await sim.addNote(gitlabProject, requirement.iid, { as: developer, body: `Note ${n}` });
      if (added.kind !== 'note') throw new Error('expected a note');
      theirs.push(added.note.id);
    }
    await world.link(project.projectId, requirement.id, 'TC-PAGED', { title: 'Pay by invoice' });
    const ours = await eventually(
      async () => {
        const notes = await linkNotes(requirement.iid);
        expect(notes).toHaveLength(1);
        return notes[0]!;
      },
      { timeoutMs: 20_000 },
    );
    await eventually(async () =>
      expect((await world.links(project.projectId, requirement.id)).body.comment).toMatchObject({
        noteId: ours.id,
        syncStatus: 'synced',
      }),
    );

    // Each page of the next listing of this issue's notes waits 2 s before it is read.
    const listPath = `/api/v4/projects/${gitlabProject}/issues/${requirement.iid}/notes`;
    const since = Date.now();
    await sim.addFault({ method: 'GET', path: listPath, kind: 'latency', latencyMs: 2_000, count: 2 });
    try {
      await world.resync(project.projectId);
      const listings = () =>
        sim
          .apiRequests({ since, method: 'GET', project: gitlabProject })
          .then((requests) => requests.filter((request) => request.path === listPath));
      // Page 1 answered (100 of their notes): delete one of them before page 2 is read.
      await eventually(async () => expect((await listings())[0]?.status).toBe(200), { timeoutMs: 60_000 });
      await sim.deleteNote(gitlabProject, requirement.iid, theirs[0]!);
      await eventually(async () => expect((await listings())[1]?.status).toBe(200), { timeoutMs: 30_000 });
      // Page 2 came back empty, so our note was in no page. Time for the sweep to act on that (a
      // comment it took for deleted is written again within a second or two).
      await sleep(5_000);
    } finally {
      await sim.clearFaults();
    }
    expect((await linkNotes(requirement.iid)).map((note) => note.id)).toEqual([ours.id]);
    expect(await world.noteWritesSince(project.gitlab, since)).toBe(0);
    // It asked GitLab for the note itself before deciding anything.
    const reads = await sim.apiRequests({ since, method: 'GET', project: gitlabProject });
    expect(reads.filter((request) => request.path === `${listPath}/${ours.id}`)).toHaveLength(1);
  });

  it('refuses bad links: invalid input, another tenant’s requirement; keeps one for a requirement not known yet', async () => {
    const requirement = await world.requirement(project);
    await world.link(project.projectId, requirement.id, 'TC-OWN', {});
    const other = await world.linkedProject('other');
    const foreign = await world.link(other.projectId, requirement.id, 'TC-X', {});
    expect(foreign.status).toBe(404);
    expect(foreign.body.error?.code).toBe('NOT_FOUND');
    expect((await world.links(other.projectId, requirement.id)).status).toBe(404);

    for (const [input, testCaseId] of [
      [{ url: 'javascript:alert(1)' }, 'TC-BAD'],
      [{ title: '' }, 'TC-BAD'],
      [{ title: 'x'.repeat(1_000_001) }, 'TC-BAD'],
      [{}, 'bad id with spaces'],
    ] as const) {
      const answer = await world.link(project.projectId, requirement.id, testCaseId, input);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
    }
    expect((await world.link(project.projectId, 'not-a-uuid', 'TC-1', {})).status).toBe(400);

    const unknown = randomUUID();
    const waiting = await world.link(project.projectId, unknown, 'TC-1', {});
    expect(waiting.status).toBe(202);
    expect(waiting.body.comment).toMatchObject({ syncStatus: 'pending', waiting: true });
    const listed = await world.links(project.projectId, requirement.id);
    expect(listed.body.testCases?.map((link) => link.testCaseId)).toEqual(['TC-OWN']);
  });

  it('posts TestKase comments once (attributed, quick actions neutralised), edits and deletes them', async () => {
    const defect = await world.defect(project, 'DEF-C1');
    const posted = await world.comment(project.projectId, 'DEF-C1', {
      commentId: 'CMT-1',
      author: 'Ada Lovelace',
      body: '<p>Reproduced.</p><p>/close</p>',
    });
    expect([201, 202]).toContain(posted.status);
    const retried = await world.comment(project.projectId, 'DEF-C1', {
      commentId: 'CMT-1',
      author: 'Ada Lovelace',
      body: '<p>Reproduced.</p>',
    });
    expect(retried.status).toBe(200);
    const note = await eventually(async () => {
      const notes = (await world.notes(project.gitlab, defect.iid)).filter((n) =>
        n.body.includes('testkase:comment:CMT-1'),
      );
      expect(notes).toHaveLength(1);
      return notes[0]!;
    });
    expect(note.body).toContain('**Ada Lovelace** commented in TestKase:');
    expect(note.body).toContain('\\/close');
    expect(await world.issueState(project.gitlab, defect.iid)).toBe('opened');
    expect((await world.getComment(project.projectId, 'DEF-C1', 'CMT-1')).body).toMatchObject({
      noteId: note.id,
      syncStatus: 'synced',
    });

    const edited = await world.editComment(project.projectId, 'DEF-C1', 'CMT-1', {
      author: 'Ada Lovelace',
      body: 'Reproduced **twice**.',
      bodyFormat: 'markdown',
    });
    expect([200, 202]).toContain(edited.status);
    await eventually(async () => {
      const notes = (await world.notes(project.gitlab, defect.iid)).filter((n) =>
        n.body.includes('testkase:comment:CMT-1'),
      );
      expect(notes.map((n) => n.id)).toEqual([note.id]);
      expect(notes[0]!.body).toContain('Reproduced **twice**.');
    });
    await world.deleteComment(project.projectId, 'DEF-C1', 'CMT-1');
    await eventually(async () =>
      expect(
        (await world.notes(project.gitlab, defect.iid)).filter((n) =>
          n.body.includes('testkase:comment:CMT-1'),
        ),
      ).toHaveLength(0),
    );
    expect((await world.getComment(project.projectId, 'DEF-C1', 'CMT-1')).body).toMatchObject({
      deleted: true,
      syncStatus: 'synced',
    });
    // Our own notes never came back as TestKase comments.
    await sleep(1_000);
    expect(await world.events('testkase.defect.comment_added', project.projectId, 'DEF-C1')).toHaveLength(0);

    const bad = await world.comment(project.projectId, 'DEF-C1', {
      commentId: 'bad id',
      author: 'A',
      body: 'x',
    });
    expect(bad.status).toBe(400);
    expect(
      (await world.comment(project.projectId, 'DEF-C1', { commentId: 'C2', author: '', body: 'x' })).status,
    ).toBe(400);
  });

  it('relays GitLab comments on a defect: added, edited, deleted (found by a sweep); never system notes', async () => {
    const defect = await world.defect(project, 'DEF-G1');
    const added = await project.gitlab.sim.addNote(project.gitlab.id, defect.iid, {
      as: project.gitlab.developer,
      body: 'Seen on **prod** <script>alert(1)</script>',
    });
    if (added.kind !== 'note') throw new Error('expected a note');
    const [event] = await eventually(async () => {
      const events = await world.events<DefectCommentAddedV1>(
        'testkase.defect.comment_added',
        project.projectId,
        'DEF-G1',
      );
      expect(events).toHaveLength(1);
      return events;
    });
    expect(event!.data.comment).toMatchObject({
      noteId: added.note.id,
      iid: defect.iid,
      internal: false,
      author: { username: project.gitlab.developer },
    });
    expect(event!.data.comment.bodyHtml).toContain('<strong>prod</strong>');
    expect(event!.data.comment.bodyHtml).not.toContain('<script');

    await project.gitlab.sim.editNote(project.gitlab.id, defect.iid, added.note.id, {
      as: project.gitlab.developer,
      body: 'Seen on prod and staging',
    });
    await eventually(async () => {
      const edits = await world.events<DefectCommentEditedV1>(
        'testkase.defect.comment_edited',
        project.projectId,
        'DEF-G1',
      );
      expect(edits.map((e) => e.data.comment.bodyMarkdown)).toEqual(['Seen on prod and staging']);
    });

    // A label change makes a system note: not a comment.
    await project.gitlab.sim.relabelIssue(project.gitlab.id, defect.iid, project.gitlab.developer, [
      'priority::high',
    ]);
    const internal = await project.gitlab.sim.addNote(project.gitlab.id, defect.iid, {
      as: project.gitlab.developer,
      body: 'internal',
      internal: true,
    });
    await eventually(async () => {
      const events = await world.events<DefectCommentAddedV1>(
        'testkase.defect.comment_added',
        project.projectId,
        'DEF-G1',
      );
      expect(events.map((e) => [e.data.comment.bodyMarkdown, e.data.comment.internal])).toEqual([
        ['Seen on **prod** <script>alert(1)</script>', false],
        ['internal', true],
      ]);
    });
    if (internal.kind !== 'note') throw new Error('expected a note');

    await project.gitlab.sim.deleteNote(project.gitlab.id, defect.iid, added.note.id);
    await world.resync(project.projectId);
    await eventually(
      async () => {
        const deleted = await world.events<DefectCommentDeletedV1>(
          'testkase.defect.comment_deleted',
          project.projectId,
          'DEF-G1',
        );
        expect(deleted.map((e) => e.data.noteId)).toEqual([added.note.id]);
      },
      { timeoutMs: 30_000 },
    );
  });

  it('stays echo-free while both sides edit at once: each write made once, nothing bounced', async () => {
    const defect = await world.defect(project, 'DEF-BOTH');
    const gitlab = project.gitlab;
    const ours = await world.comment(project.projectId, 'DEF-BOTH', {
      commentId: 'CMT-BOTH',
      author: 'Ada Lovelace',
      body: 'Version 0',
      bodyFormat: 'markdown',
    });
    expect([201, 202]).toContain(ours.status);
    const theirs = await gitlab.sim.addNote(gitlab.id, defect.iid, {
      as: gitlab.developer,
      body: 'Theirs 0',
    });
    if (theirs.kind !== 'note') throw new Error('expected a note');
    const ourNote = await eventually(async () => {
      const found = (await world.notes(gitlab, defect.iid)).find((n) =>
        n.body.includes('testkase:comment:CMT-BOTH'),
      );
      if (!found) throw new Error('not posted yet');
      return found;
    });
    await eventually(async () =>
      expect(await world.events('testkase.defect.comment_added', project.projectId, 'DEF-BOTH')).toHaveLength(
        1,
      ),
    );

    const since = Date.now();
    const EDITS = 8;
    await Promise.all([
      (async () => {
        for (let version = 1; version <= EDITS; version += 1) {
          const answer = await world.editComment(project.projectId, 'DEF-BOTH', 'CMT-BOTH', {
            author: 'Ada Lovelace',
            body: `Version ${version}`,
            bodyFormat: 'markdown',
          });
          expect([200, 202]).toContain(answer.status);
        }
      })(),
      (async () => {
        for (let version = 1; version <= EDITS; version += 1) {
          await gitlab.sim.editNote(gitlab.id, defect.iid, theirs.note.id, {
            as: gitlab.developer,
            body: `Theirs ${version}`,
          });
          await sleep(50);
        }
      })(),
    ]);

    await eventually(async () => {
      const notes = await world.notes(gitlab, defect.iid);
      expect(notes.find((n) => n.id === ourNote.id)?.body).toContain(`Version ${EDITS}`);
      const edits = await world.events<DefectCommentEditedV1>(
        'testkase.defect.comment_edited',
        project.projectId,
        'DEF-BOTH',
      );
      expect(edits.at(-1)?.data.comment.bodyMarkdown).toBe(`Theirs ${EDITS}`);
    });
    await sleep(2_000);
    // Their note was only ever written by them; ours only by edits of our comment, never more
    // than one write per TestKase edit, and no new note.
    const writes = (
      await gitlab.sim.apiRequests({ since, project: gitlab.id, method: ['POST', 'PUT', 'DELETE'] })
    ).filter((request) => request.username === gitlab.bot && /\/notes(\/\d+)?$/.test(request.path));
    expect(writes.filter((request) => request.path.endsWith(`/notes/${theirs.note.id}`))).toEqual([]);
    expect(writes.filter((request) => request.method !== 'PUT')).toEqual([]);
    expect(writes.length).toBeGreaterThanOrEqual(1);
    expect(writes.length).toBeLessThanOrEqual(EDITS);
    // Nothing of ours came back; every event is about their note, and their edits arrive in order.
    const added = await world.events<DefectCommentAddedV1>(
      'testkase.defect.comment_added',
      project.projectId,
      'DEF-BOTH',
    );
    const edited = await world.events<DefectCommentEditedV1>(
      'testkase.defect.comment_edited',
      project.projectId,
      'DEF-BOTH',
    );
    expect(
      [...added, ...edited].map((event) => event.data.comment.noteId).filter((id) => id !== theirs.note.id),
    ).toEqual([]);
    const versions = edited.map((event) => Number(/Theirs (\d+)/.exec(event.data.comment.bodyMarkdown)?.[1]));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect((await world.getComment(project.projectId, 'DEF-BOTH', 'CMT-BOTH')).body).toMatchObject({
      noteId: ourNote.id,
      syncStatus: 'synced',
    });
  });

  it('takes bad note events without loss or crash: oversized, hostile, foreign, early, 2016-generation', async () => {
    const gitlab = project.gitlab;
    const defect = await world.defect(project, 'DEF-BAD');
    const other = await world.linkedProject('other');
    const template = await gitlab.sim.addNote(gitlab.id, defect.iid, {
      as: gitlab.developer,
      body: 'Template',
    });
    if (template.kind !== 'note') throw new Error('expected a note');
    await eventually(async () =>
      expect(await world.events('testkase.defect.comment_added', project.projectId, 'DEF-BAD')).toHaveLength(
        1,
      ),
    );
    const delivered = (await gitlab.sim.deliveries({ project: gitlab.id })).find(
      (delivery) =>
        delivery.payload['object_kind'] === 'note' &&
        (delivery.payload['object_attributes'] as { id?: number }).id === template.note.id,
    );
    if (!delivered) throw new Error('no delivery of the template note');
    type NotePayload = Record<string, unknown> & {
      object_attributes: Record<string, unknown>;
      issue: Record<string, unknown>;
      project: Record<string, unknown>;
    };
    let nextNoteId = 900_000_000;
    /** The template delivery as a new note: fresh id, now, `change` applied. */
    const variant = (change: (payload: NotePayload) => void = () => undefined) => {
      const payload = structuredClone(delivered.payload) as NotePayload;
      nextNoteId += 1;
      const now = new Date().toISOString();
      Object.assign(payload.object_attributes, { id: nextNoteId, created_at: now, updated_at: now });
      change(payload);
      return { payload, noteId: nextNoteId };
    };
    const publish = async (connectionId: string, body: unknown) => {
      await world.probe.nc
        .jetstream()
        .publish(
          world.probe.subject(gitlabEventSubject(connectionId, 'note')),
          Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
          { msgID: randomUUID() },
        );
    };
    const deadLetters = async () =>
      (await world.probe.read('DEAD_LETTERS', 'deadletter.comment-relay-notes')).map(
        (message) => message.headers['x-dead-letter-error'] ?? '',
      );
    const addedEvent = (noteId: number, projectId = project.projectId, defectId = 'DEF-BAD') =>
      eventually(
        async () => {
          const events = await world.events<DefectCommentAddedV1>(
            'testkase.defect.comment_added',
            projectId,
            defectId,
          );
          const found = events.filter((event) => event.data.comment.noteId === noteId);
          expect(found).toHaveLength(1);
          return found[0]!;
        },
        { timeoutMs: 30_000 },
      );

    // GitLab's largest note (1,000,000 characters): relayed, its body too big for the event.
    const largest = variant((p) => (p.object_attributes['note'] = 'x'.repeat(1_000_000)));
    await publish(project.connectionId, largest.payload);
    expect((await addedEvent(largest.noteId)).data.comment).toMatchObject({
      bodyOmitted: true,
      bodyMarkdown: '',
    });

    // Hostile Markdown: relayed, inert.
    const hostile = variant(
      (p) =>
        (p.object_attributes['note'] =
          '[click](javascript:alert(1)) <img src=x onerror=alert(2)> <script>alert(3)</script> <iframe src="https://evil.example"></iframe> @all /close'),
    );
    await publish(project.connectionId, hostile.payload);
    const html = (await addedEvent(hostile.noteId)).data.comment.bodyHtml;
    // The javascript: link stays text, never an href.
    expect(html).not.toMatch(/href\s*=\s*["']?\s*javascript:/i);
    for (const bad of ['onerror', '<script', '<iframe']) expect(html).not.toContain(bad);
    expect(await world.issueState(gitlab, defect.iid)).toBe('opened');

    // A body longer than GitLab allows, another project's note on this connection, this project's
    // note on another connection, and bytes that are not JSON: dead-lettered with the reason.
    const oversized = variant((p) => (p.object_attributes['note'] = 'y'.repeat(1_000_001)));
    await publish(project.connectionId, oversized.payload);
    const foreign = variant((p) => {
      p['project_id'] = other.gitlab.id;
      p.project['id'] = other.gitlab.id;
      p.object_attributes['project_id'] = other.gitlab.id;
    });
    await publish(project.connectionId, foreign.payload);
    const crossTenant = variant();
    await publish(other.connectionId, crossTenant.payload);
    await publish(project.connectionId, '{"object_kind": "note", ');
    await eventually(async () => {
      const letters = await deadLetters();
      expect(letters.some((error) => error.includes("longer than GitLab's limit"))).toBe(true);
      expect(letters.some((error) => error.includes(`event of GitLab project ${other.gitlab.id}`))).toBe(
        true,
      );
      expect(letters.some((error) => error.includes(`event of GitLab project ${gitlab.id}`))).toBe(true);
      expect(letters.some((error) => /JSON/i.test(error))).toBe(true);
    });
    for (const noteId of [oversized.noteId, foreign.noteId, crossTenant.noteId]) {
      const everywhere = [
        ...(await world.probe.events<DefectCommentAddedV1>(
          'TESTKASE_EVENTS',
          'testkase.defect.comment_added',
        )),
      ];
      expect(everywhere.filter((event) => event.data.comment.noteId === noteId)).toEqual([]);
    }

    // A note on a pushed issue whose push comment-relay has not heard of yet: retried, then relayed.
    const issues = await (
      await fetch(`${world.simUrl}/api/v4/projects/${gitlab.id}/issues?per_page=100&order_by=created_at`, {
        headers: { 'PRIVATE-TOKEN': gitlab.token },
      })
    ).json();
    const nextIid = Math.max(...(issues as Array<{ iid: number }>).map((issue) => issue.iid)) + 1;
    const early = variant((p) => {
      p.issue['iid'] = nextIid;
      p.issue['id'] = Number(p.issue['id']) + 1_000;
      p.issue['description'] = 'Broken.\n\n<!-- testkase:defect:DEF-EARLY -->';
      p.object_attributes['noteable_id'] = p.issue['id'];
      p.object_attributes['note'] = 'Seen before the push was recorded';
    });
    await publish(project.connectionId, early.payload);
    await sleep(500);
    const pushed = await world.defect(project, 'DEF-EARLY');
    expect(pushed.iid).toBe(nextIid);
    expect((await addedEvent(early.noteId, project.projectId, 'DEF-EARLY')).data.comment.bodyMarkdown).toBe(
      'Seen before the push was recorded',
    );

    // The 2016 generation (GitLab 8.x: no event_type, no user id, "… UTC" times).
    const legacy = JSON.parse(
      readFileSync(
        join(__dirname, '../../../libs/gitlab/test/fixtures/gitlab/real/webhook-note-issue-2016.json'),
        'utf8',
      ),
    ) as NotePayload;
    nextNoteId += 1;
    const legacyNoteId = nextNoteId;
    legacy['project_id'] = gitlab.id;
    legacy.object_attributes['project_id'] = gitlab.id;
    legacy.object_attributes['id'] = legacyNoteId;
    legacy.object_attributes['note'] = 'Filed from GitLab 8';
    legacy.object_attributes['created_at'] = legacy.object_attributes['updated_at'] = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC');
    legacy.issue['iid'] = defect.iid;
    legacy.issue['project_id'] = gitlab.id;
    await publish(project.connectionId, legacy);
    expect((await addedEvent(legacyNoteId)).data.comment.bodyMarkdown).toBe('Filed from GitLab 8');

    // And the consumer is still well: a real note goes through.
    const after = await gitlab.sim.addNote(gitlab.id, defect.iid, {
      as: gitlab.developer,
      body: 'Still here',
    });
    if (after.kind !== 'note') throw new Error('expected a note');
    await addedEvent(after.note.id);
    expect(await world.events('testkase.defect.comment_added', other.projectId, 'DEF-BAD')).toEqual([]);
  });

  it('serves the same operations over gRPC', async () => {
    const requirement = await world.requirement(project);
    const linked = await world.grpc.call('LinkTestCase', {
      projectId: project.projectId,
      requirementId: requirement.id,
      testCaseId: 'TC-G',
      key: 'TC-G',
      title: 'Over gRPC',
      url: 'https://testkase.example.com/tc/TC-G',
    });
    expect(linked.error).toBeUndefined();
    const links = (linked.reply as { links: { testCases: Array<{ key: string; linkedAt: unknown }> } }).links;
    expect(links.testCases.map((t) => t.key)).toEqual(['TC-G']);
    expect(links.testCases[0]?.linkedAt).toEqual({ seconds: expect.any(Number), nanos: expect.any(Number) });
    const listed = await world.grpc.call('ListTestCases', {
      projectId: project.projectId,
      requirementId: requirement.id,
    });
    expect(listed.reply).toMatchObject({ links: { testCases: [{ key: 'TC-G' }] } });
    expect(['COMMENT_SYNC_STATUS_SYNCED', 'COMMENT_SYNC_STATUS_PENDING']).toContain(
      (listed.reply as { links: { comment: { syncStatus: string } } }).links.comment.syncStatus,
    );
    const invalid = await world.grpc.call('LinkTestCase', {
      projectId: project.projectId,
      requirementId: 'x',
      testCaseId: 'TC-G',
      key: 'k',
      title: 't',
      url: 'https://x.example',
    });
    expect(invalid.code).toBe('VALIDATION_FAILED');
    const unauthenticated = await world.grpc.call(
      'ListTestCases',
      { projectId: project.projectId, requirementId: requirement.id },
      'wrong',
    );
    expect(unauthenticated.code).toBe('UNAUTHENTICATED');
  });
});
