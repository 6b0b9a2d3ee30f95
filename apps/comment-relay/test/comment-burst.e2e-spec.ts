import { eventually } from '@testkase/testing';

import { CommentWorld, type LinkedProject } from './support/comment-world';

jest.setTimeout(300_000);

/** Note creations per minute: a self-managed instance's default, enforced by the simulator. */
const NOTE_LIMIT = 300;
const BURST = 300;

/**
 * Note creation under the instance's limit, through the durable queue: the simulator runs the
 * GitLab.com preset (fixed one-minute windows per user) with the note limit at a self-managed
 * instance's 300 a minute, and comment-relay is told that figure
 * (GITLAB_RATE_LIMIT_NOTE_CREATES_PER_MINUTE), so a burst waits instead of failing.
 * `npm run bench:comments` runs the same burst at GitLab.com's own 60 a minute.
 */
describe('comment-relay: a burst of comments under the rate limit, and a crash mid-burst', () => {
  let world: CommentWorld;
  let project: LinkedProject;

  beforeAll(async () => {
    world = await CommentWorld.start('cr_burst', {
      GITLAB_RATE_LIMITS: 'gitlab.com',
      GITLAB_RATE_LIMIT_NOTE_CREATES_PER_MINUTE: String(NOTE_LIMIT),
    });
    project = await world.linkedProject();
    await project.gitlab.sim.setRateLimits({ preset: 'gitlab.com', noteCreatesPerMinute: NOTE_LIMIT });
  }, 180_000);

  afterAll(async () => {
    await world?.stop();
  });

  /** How many notes on the issue carry each comment's marker. */
  const markerCounts = async (iid: number): Promise<Map<string, number>> => {
    const counts = new Map<string, number>();
    for (const note of await world.notes(project.gitlab, iid)) {
      const id = /<!-- testkase:comment:([^ ]+) -->/.exec(note.body)?.[1];
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  };

  /** Posts the comments, 50 at a time, and returns the HTTP statuses. */
  const postAll = async (defectId: string, ids: readonly string[]): Promise<number[]> => {
    const statuses: number[] = [];
    for (let start = 0; start < ids.length; start += 50) {
      const answers = await Promise.all(
        ids.slice(start, start + 50).map((commentId) =>
          world.comment(project.projectId, defectId, {
            commentId,
            author: 'Grace Hopper',
            body: `<p>Observation ${commentId}</p>`,
          }),
        ),
      );
      statuses.push(...answers.map((answer) => answer.status));
    }
    return statuses;
  };

  const expectEachOnce = async (iid: number, ids: readonly string[], timeoutMs: number) => {
    await eventually(
      async () => {
        const counts = await markerCounts(iid);
        expect(ids.filter((id) => !counts.has(id))).toEqual([]);
      },
      { timeoutMs, intervalMs: 2_000 },
    );
    const counts = await markerCounts(iid);
    expect([...counts.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect(counts.size).toBe(ids.length);
  };

  it(`posts ${BURST} comments queued at once, each exactly once and without a 429`, async () => {
    const defect = await world.defect(project, 'DEF-BURST');
    const since = Date.now();
    const ids = Array.from({ length: BURST }, (_, index) => `CMT-B${index + 1}`);
    const statuses = await postAll('DEF-BURST', ids);
    expect(statuses.filter((status) => status !== 201 && status !== 202)).toEqual([]);
    // The burst is larger than what the instance allows at once: most wait in the queue.
    expect(statuses.filter((status) => status === 202).length).toBeGreaterThan(BURST / 2);

    await expectEachOnce(defect.iid, ids, 150_000);
    const requests = await project.gitlab.sim.apiRequests({ since, limit: 100_000 });
    expect(requests.filter((request) => request.status === 429)).toEqual([]);
    for (const id of ['CMT-B1', `CMT-B${BURST / 2}`, `CMT-B${BURST}`]) {
      expect((await world.getComment(project.projectId, 'DEF-BURST', id)).body).toMatchObject({
        syncStatus: 'synced',
        error: null,
      });
    }
  });

  it('loses and doubles nothing when comment-relay is killed in the middle of a burst', async () => {
    const defect = await world.defect(project, 'DEF-CRASH');
    const ids = Array.from({ length: 150 }, (_, index) => `CMT-K${index + 1}`);
    const statuses = await postAll('DEF-CRASH', ids);
    expect(statuses.filter((status) => status !== 201 && status !== 202)).toEqual([]);
    await eventually(async () => expect((await markerCounts(defect.iid)).size).toBeGreaterThanOrEqual(20), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    await world.stack.app('comment-relay').kill();
    const posted = (await markerCounts(defect.iid)).size;
    expect(posted).toBeLessThan(ids.length);

    await world.stack.startApp('comment-relay');
    await expectEachOnce(defect.iid, ids, 150_000);
    for (const id of ids) {
      expect((await world.getComment(project.projectId, 'DEF-CRASH', id)).body).toMatchObject({
        syncStatus: 'synced',
      });
    }
  });
});
