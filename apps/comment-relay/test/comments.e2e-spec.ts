import { randomUUID } from 'node:crypto';

import type {
  DefectCommentAddedV1,
  DefectCommentDeletedV1,
  DefectCommentEditedV1,
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
    expect((linked.reply as { testCases: Array<{ key: string }> }).testCases.map((t) => t.key)).toEqual([
      'TC-G',
    ]);
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
