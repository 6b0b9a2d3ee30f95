import type { DefectV1 } from '@testkase/contracts';

import { seededRandom } from '../lib/load-tools';
import {
  attemptsOf,
  PRIORITY_LABELS,
  sleep,
  type CommentModel,
  type DefectModel,
  type SoakProject,
  type World,
} from './world';

const TICK_MS = 500;
const DEFECT_PRIORITIES = ['Blocker', 'Critical', 'Major', 'Minor', 'Trivial'];
const DEFECT_STATUSES = ['Open', 'In-Progress', 'Closed'];
const TEST_CASES = 6;
const TEST_STATUSES = ['Passed', 'Failed', 'Blocked'];

/** A bounded set of promises in flight: `run` refuses (false) when full, so a slow system sheds load visibly. */
class InFlight {
  private count = 0;
  private readonly all = new Set<Promise<void>>();
  constructor(private readonly limit: number) {}

  run(task: () => Promise<void>): boolean {
    if (this.count >= this.limit) return false;
    this.count += 1;
    const promise = task().finally(() => {
      this.count -= 1;
      this.all.delete(promise);
    });
    this.all.add(promise);
    return true;
  }

  async drain(): Promise<void> {
    while (this.all.size > 0) await Promise.allSettled([...this.all]);
  }
}

/**
 * GitLab-side load: `rate` events a second spread over the projects, as the Developer: title edits
 * and priority relabels, closes and reopens of requirement issues, closes, reopens and relabels of
 * pushed defects' issues, and notes on them. Each tick gives each project one control-API call for
 * its edits and one for its notes (the simulator fires one webhook per change, as for a REST write).
 */
export class GitlabLoad {
  private readonly random = seededRandom(14);
  private readonly busy = new Set<number>();
  private readonly inflight = new InFlight(64);
  private carry = 0;
  private revision = 0;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly world: World,
    private readonly rate: number,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.inflight.drain();
  }

  private async run(): Promise<void> {
    let due = Date.now();
    while (!this.stopped) {
      due += TICK_MS;
      this.tick();
      await sleep(Math.max(0, due - Date.now()));
    }
  }

  private tick(): void {
    const projects = this.world.projects;
    this.carry += (this.rate * TICK_MS) / 1000;
    const events = Math.floor(this.carry);
    this.carry -= events;
    const perProject = new Array<number>(projects.length).fill(0);
    for (let event = 0; event < events; event += 1)
      perProject[Math.floor(this.random() * projects.length)]! += 1;
    projects.forEach((project, index) => {
      const count = perProject[index]!;
      if (count === 0) return;
      if (this.busy.has(index)) {
        this.world.counts.gitlabSkipped += count;
        return;
      }
      const planned = this.plan(project, count);
      const started = this.inflight.run(async () => {
        this.busy.add(index);
        try {
          await this.send(project, planned);
        } finally {
          this.busy.delete(index);
        }
      });
      if (!started) this.world.counts.gitlabSkipped += count;
    });
  }

  private plan(project: SoakProject, count: number) {
    const edits: Array<Record<string, unknown> & { iid: number }> = [];
    let notes = 0;
    let noteIid: number | undefined;
    for (let event = 0; event < count; event += 1) {
      const roll = this.random();
      const defectIid =
        project.defectIssues.length > 0
          ? project.defectIssues[Math.floor(this.random() * project.defectIssues.length)]
          : undefined;
      if (roll < 0.3 && defectIid !== undefined) {
        // Notes go to one defect issue per tick (comments both ways are the defects').
        noteIid ??= defectIid;
        notes += 1;
      } else if (roll < 0.45 && defectIid !== undefined) {
        edits.push(
          this.random() < 0.6
            ? { iid: defectIid, stateEvent: this.random() < 0.5 ? 'close' : 'reopen' }
            : { iid: defectIid, labels: [this.pick(PRIORITY_LABELS)] },
        );
      } else {
        const iid = this.pick(project.editable);
        const kind = this.random();
        this.revision += 1;
        if (kind < 0.55)
          edits.push({ iid, title: `Requirement ${project.index}.${iid} rev ${this.revision}` });
        else if (kind < 0.8)
          edits.push({
            iid,
            labels: this.random() < 0.2 ? ['soak'] : ['soak', this.pick(PRIORITY_LABELS)],
          });
        else {
          const state = project.state.get(iid) ?? 'opened';
          project.state.set(iid, state === 'opened' ? 'closed' : 'opened');
          edits.push({ iid, stateEvent: state === 'opened' ? 'close' : 'reopen' });
        }
      }
    }
    return { edits, notes, noteIid };
  }

  private async send(
    project: SoakProject,
    planned: { edits: Array<Record<string, unknown> & { iid: number }>; notes: number; noteIid?: number },
  ): Promise<void> {
    const as = project.gitlab.developer;
    try {
      if (planned.edits.length > 0) {
        await this.world.sim.editIssues(project.gitlab.id, { as, edits: planned.edits as never });
        this.world.counts.gitlabEdits += planned.edits.length;
      }
      if (planned.notes > 0 && planned.noteIid !== undefined) {
        await this.world.sim.burst(project.gitlab.id, {
          as,
          action: 'comment',
          count: planned.notes,
          iid: planned.noteIid,
        });
        this.world.counts.gitlabNotes += planned.notes;
      }
    } catch {
      this.world.counts.controlErrors += 1;
    }
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
}

/**
 * TestKase-side load, `rate` actions a second over every replica of the services, as TestKase core
 * calls them: defect pushes, status and priority changes, comments on pushed defects, and links and
 * unlinks of test cases on requirements. Every call is retried on another replica until answered.
 */
export class CoreLoad {
  private readonly random = seededRandom(41);
  private readonly inflight = new InFlight(48);
  private readonly linking = new Set<string>();
  private carry = 0;
  private sequence = 0;
  private stopped = false;
  private loop?: Promise<void>;
  private resolver?: Promise<void>;

  constructor(
    private readonly world: World,
    private readonly rate: number,
  ) {}

  start(): void {
    this.loop = this.run();
    this.resolver = this.resolvePending();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.inflight.drain();
    await this.resolver;
  }

  /** Issues of pushes answered 202 pending: read back until known (the GitLab side then edits them too). */
  async resolvePending(once = false): Promise<void> {
    do {
      for (const model of this.world.defects.values()) {
        if (!model.accepted || model.iid !== null) continue;
        const defect = await this.world.defect(model).catch(() => undefined);
        if (defect?.issue) this.known(model, defect);
      }
      if (!once) await sleep(2_000);
    } while (!this.stopped && !once);
  }

  private known(model: DefectModel, defect: DefectV1): void {
    if (!defect.issue || model.iid !== null) return;
    model.iid = defect.issue.iid;
    model.project.defectIssues.push(defect.issue.iid);
  }

  private async run(): Promise<void> {
    let due = Date.now();
    while (!this.stopped) {
      due += TICK_MS;
      this.carry += (this.rate * TICK_MS) / 1000;
      const actions = Math.floor(this.carry);
      this.carry -= actions;
      for (let action = 0; action < actions; action += 1) {
        if (!this.inflight.run(() => this.act())) this.world.counts.coreSkipped += 1;
      }
      await sleep(Math.max(0, due - Date.now()));
    }
  }

  private async act(): Promise<void> {
    const roll = this.random();
    const pushed = [...this.world.defects.values()].filter((model) => model.accepted);
    let kind: string;
    try {
      if (roll < 0.2 || pushed.length < 5) {
        kind = 'push';
        await this.push();
      } else if (roll < 0.45) {
        kind = 'patch';
        await this.patch(this.pick(pushed));
      } else if (roll < 0.7) {
        kind = 'comment';
        await this.comment(this.pick(pushed));
      } else {
        kind = 'link';
        await this.link();
      }
      this.world.count(this.world.counts.coreActions, kind);
    } catch {
      this.world.counts.coreFailed += 1;
    }
  }

  private async push(): Promise<void> {
    const project = this.pick(this.world.projects);
    const defectId = `D-${project.index}-${++this.sequence}`;
    const model: DefectModel = {
      project,
      defectId,
      title: `Soak defect ${defectId}: the cart loses its items`,
      accepted: false,
      iid: null,
      patches: 0,
      comments: 0,
    };
    this.world.defects.set(defectId, model);
    const response = await this.world.core<{ defect?: DefectV1 } & DefectV1>(
      'defect-sync',
      'POST',
      `/v1/projects/${project.projectId}/defects/${defectId}/push`,
      {
        title: model.title,
        description: `<p>Found by the soak: defect <strong>${defectId}</strong>.</p>`,
        priority: this.pick(DEFECT_PRIORITIES),
        status: 'Open',
        url: `https://testkase.example.com/${project.projectId}/defects/${defectId}`,
      },
    );
    this.world.count(this.world.counts.coreStatuses, `push ${response.status}`);
    if (response.status === 200 || response.status === 201 || response.status === 202) {
      model.accepted = true;
      const defect = response.body.defect ?? response.body;
      if (defect?.issue) this.known(model, defect);
    }
  }

  private async patch(model: DefectModel): Promise<void> {
    const body =
      this.random() < 0.65
        ? { status: this.pick(DEFECT_STATUSES) }
        : { priority: this.pick(DEFECT_PRIORITIES) };
    const response = await this.world
      .core('defect-sync', 'PATCH', `/v1/projects/${model.project.projectId}/defects/${model.defectId}`, body)
      .catch((error: unknown) => {
        model.patches += attemptsOf(error);
        throw error;
      });
    this.world.count(this.world.counts.coreStatuses, `patch ${response.status}`);
    if (response.status < 300) model.patches += response.attempts;
  }

  private async comment(defect: DefectModel): Promise<void> {
    const commentId = `C-${++this.sequence}`;
    const model: CommentModel = { defect, commentId, accepted: false };
    this.world.comments.set(commentId, model);
    const response = await this.world
      .core(
        'comment-relay',
        'POST',
        `/v1/projects/${defect.project.projectId}/defects/${defect.defectId}/comments`,
        { commentId, author: 'Soak Tester', body: `Soak comment ${commentId} on ${defect.defectId}.` },
      )
      .catch((error: unknown) => {
        defect.comments += 1; // one comment: at most one note, however many requests
        throw error;
      });
    this.world.count(this.world.counts.coreStatuses, `comment ${response.status}`);
    if (response.status < 300) {
      model.accepted = true;
      defect.comments += 1;
    }
  }

  private async link(): Promise<void> {
    const project = this.pick(this.world.projects);
    const iid = this.pick(project.editable);
    const requirementId = project.requirements.get(iid)!;
    // One call at a time per requirement: the model's order is then the order comment-relay sees.
    if (this.linking.has(requirementId)) return;
    this.linking.add(requirementId);
    try {
      await this.linkOne(project, iid, requirementId);
    } catch (error) {
      const entry = this.world.links.get(requirementId);
      if (entry) entry.uncertain = true;
      throw error;
    } finally {
      this.linking.delete(requirementId);
    }
  }

  private async linkOne(project: SoakProject, iid: number, requirementId: string): Promise<void> {
    const entry = this.world.links.get(requirementId) ?? { project, iid, cases: new Map(), uncertain: false };
    this.world.links.set(requirementId, entry);
    const testCaseId = `TC-${1 + Math.floor(this.random() * TEST_CASES)}`;
    const route = `/v1/projects/${project.projectId}/requirements/${requirementId}/test-cases/${testCaseId}`;
    if (entry.cases.has(testCaseId) && this.random() < 0.4) {
      // The model changes before the call: a later call on the same link sees it.
      entry.cases.delete(testCaseId);
      const response = await this.world.core('comment-relay', 'DELETE', route).catch((error: unknown) => {
        this.changed(requirementId, attemptsOf(error));
        throw error;
      });
      this.world.count(this.world.counts.coreStatuses, `unlink ${response.status}`);
      this.changed(requirementId, response.attempts);
      return;
    }
    const link = {
      key: testCaseId,
      title: `Soak case ${testCaseId.slice(3)} rev ${++this.sequence}`,
      url: `https://testkase.example.com/tc/${testCaseId}`,
      status: this.pick(TEST_STATUSES),
    };
    entry.cases.set(testCaseId, link);
    const response = await this.world.core('comment-relay', 'PUT', route, link).catch((error: unknown) => {
      this.changed(requirementId, attemptsOf(error));
      throw error;
    });
    this.world.count(this.world.counts.coreStatuses, `link ${response.status}`);
    this.changed(requirementId, response.attempts);
  }

  private changed(requirementId: string, requests: number): void {
    this.world.linkChanges.set(requirementId, (this.world.linkChanges.get(requirementId) ?? 0) + requests);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
}
