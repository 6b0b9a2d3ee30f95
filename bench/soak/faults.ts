import { seededRandom } from '../lib/load-tools';
import type { Replica } from './topology';
import { sleep, type SoakProject, type World } from './world';

export interface FaultRecord {
  kind: string;
  target: string;
  /** ms since the load started. */
  at: number;
  /** How long the part was away (killed → ready again), ms. */
  downMs: number | null;
  /** From the fault to the moment an edit made at the fault shows on its requirement, ms. */
  recoveryMs: number | null;
  note?: string;
}

interface Planned {
  at: number;
  kind: 'nats' | 'postgres' | 'replica' | 'gitlab-5xx' | 'gitlab-429';
  replica?: Replica;
}

/**
 * The faults of the soak at random moments of the load (fixed seed): kill -9 of one NATS node
 * three times (restarted after NATS_DOWN_MS), Postgres restarted twice, every service replica
 * killed three times and restarted at once, and bursts of 5xx and 429 from the simulator. Never
 * both replicas of a service, nor two NATS nodes, at once. After each fault a canary edit measures
 * how long until an edit made then is reflected.
 */
export class FaultPlan {
  readonly records: FaultRecord[] = [];
  private readonly random = seededRandom(7);
  private readonly tasks: Promise<void>[] = [];
  private readonly pending = new Set<string>();
  private infra: Promise<void> = Promise.resolve();
  private canaries = 0;
  private timers: NodeJS.Timeout[] = [];
  /** Fault ids armed in the simulator, with what they are, and their hits when removed. */
  readonly simFaults: Array<{ id: number; kind: string; hits: number }> = [];

  constructor(
    private readonly world: World,
    private readonly durationMs: number,
    private readonly canary: { project: SoakProject; iid: number; requirementId: string },
    private readonly natsDownMs = 8_000,
    private readonly postgresDownMs = 4_000,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  plan(): Planned[] {
    const window = (from: number, to: number) =>
      Math.round(this.durationMs * (from + this.random() * (to - from)));
    const planned: Planned[] = [];
    for (let n = 0; n < 3; n += 1)
      planned.push({ at: window(0.08 + n * 0.27, 0.25 + n * 0.27), kind: 'nats' });
    for (let n = 0; n < 2; n += 1)
      planned.push({ at: window(0.2 + n * 0.4, 0.45 + n * 0.4), kind: 'postgres' });
    for (const replica of this.world.topology.replicas)
      for (let n = 0; n < 3; n += 1)
        planned.push({ at: window(0.05 + n * 0.28, 0.3 + n * 0.28), kind: 'replica', replica });
    for (let n = 0; n < 3; n += 1) {
      planned.push({ at: window(0.1 + n * 0.27, 0.3 + n * 0.27), kind: 'gitlab-5xx' });
      planned.push({ at: window(0.1 + n * 0.27, 0.3 + n * 0.27), kind: 'gitlab-429' });
    }
    return planned.sort((a, b) => a.at - b.at);
  }

  start(startedAt: number): Planned[] {
    const planned = this.plan();
    for (const fault of planned) {
      this.timers.push(
        setTimeout(
          () =>
            this.tasks.push(
              this.run(fault, startedAt).catch((error: unknown) => this.failed(fault, startedAt, error)),
            ),
          Math.max(0, startedAt + fault.at - Date.now()),
        ),
      );
    }
    return planned;
  }

  /** Waits for every fault to have run and every part to be back. */
  async finish(): Promise<void> {
    while (this.records.length < this.timers.length) await sleep(500);
    await Promise.allSettled(this.tasks);
    await this.infra;
    for (const fault of this.simFaults) {
      const armed = (await this.world.sim.faults()).find((item) => item.id === fault.id);
      if (armed) {
        fault.hits = armed.hits;
        await this.world.sim.removeFault(fault.id);
      }
    }
  }

  cancel(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  private failed(fault: Planned, startedAt: number, error: unknown): void {
    this.log(`fault failed: ${fault.kind} ${fault.replica?.id ?? ''}: ${String(error).slice(0, 300)}`);
    this.records.push({
      kind: fault.kind,
      target: fault.replica?.id ?? '',
      at: Date.now() - startedAt,
      downMs: null,
      recoveryMs: null,
      note: `fault failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200),
    });
  }

  private async run(fault: Planned, startedAt: number): Promise<void> {
    const topology = this.world.topology;
    const record: FaultRecord = { kind: fault.kind, target: '', at: 0, downMs: null, recoveryMs: null };
    const begin = async () => {
      record.at = Date.now() - startedAt;
      this.log(`fault: ${fault.kind} ${record.target}`);
      return { t0: Date.now(), canary: this.edit() };
    };
    switch (fault.kind) {
      case 'nats':
      case 'postgres': {
        // One infrastructure fault at a time (a quorum of NATS, one database).
        const previous = this.infra;
        let done: () => void = () => undefined;
        this.infra = new Promise<void>((resolve) => (done = resolve));
        await previous;
        try {
          if (fault.kind === 'nats') {
            const node = Math.floor(this.random() * topology.nats.size);
            record.target = `nats node ${node + 1}`;
            const { t0, canary } = await begin();
            await topology.nats.killNode(node);
            const reflected = this.reflected(await canary, t0);
            await sleep(this.natsDownMs);
            await topology.nats.startNode(node);
            record.downMs = Date.now() - t0;
            record.recoveryMs = await reflected;
          } else {
            record.target = 'postgres';
            const { t0, canary } = await begin();
            await topology.postgres.pause();
            const reflected = this.reflected(await canary, t0);
            await sleep(this.postgresDownMs);
            await topology.postgres.resume();
            record.downMs = Date.now() - t0;
            record.recoveryMs = await reflected;
          }
        } finally {
          done();
        }
        break;
      }
      case 'replica': {
        const replica = fault.replica!;
        record.target = replica.id;
        // Never both replicas of a service at once: wait for the sibling (and this one) to be up.
        const sibling = topology.replicas.find((other) => other.app === replica.app && other !== replica)!;
        while (!sibling.running || !replica.running || this.pending.has(sibling.id)) await sleep(250);
        this.pending.add(replica.id);
        try {
          const { t0, canary } = await begin();
          await topology.killReplica(replica);
          const reflected = this.reflected(await canary, t0);
          await topology.startReplica(replica, (error) =>
            this.log(`restart of ${replica.id} failed, trying again: ${String(error).slice(0, 300)}`),
          );
          record.downMs = Date.now() - t0;
          record.recoveryMs = await reflected;
        } finally {
          this.pending.delete(replica.id);
        }
        break;
      }
      case 'gitlab-5xx': {
        record.target = 'REST API';
        const { t0, canary } = await begin();
        const status = [500, 502, 503][Math.floor(this.random() * 3)]!;
        const armed = await this.world.sim.addFault({
          path: '/api/v4/**',
          kind: 'status',
          status,
          count: 40,
          probability: 0.5,
        });
        this.simFaults.push({ id: armed.id, kind: `${status}`, hits: 0 });
        // One committed write whose answer is lost (a proxy's 502 after GitLab created the issue).
        const after = await this.world.sim.addFault({
          method: 'POST',
          path: '/api/v4/projects/*/issues',
          kind: 'status',
          status: 502,
          phase: 'after',
          count: 1,
        });
        this.simFaults.push({ id: after.id, kind: '502 after', hits: 0 });
        record.note = `${status} on half the requests, 40 of them; one 502 after an issue creation`;
        record.recoveryMs = await this.reflected(await canary, t0);
        break;
      }
      case 'gitlab-429': {
        record.target = 'REST API';
        const { t0, canary } = await begin();
        const armed = await this.world.sim.addFault({
          path: '/api/v4/**',
          kind: 'rate_limit',
          retryAfter: 2,
          count: 30,
          probability: 0.5,
        });
        this.simFaults.push({ id: armed.id, kind: '429', hits: 0 });
        record.note = '429 Retry-After 2 on half the requests, 30 of them';
        record.recoveryMs = await this.reflected(await canary, t0);
        break;
      }
    }
    this.records.push(record);
    this.log(
      `fault done: ${record.kind} ${record.target}, down ${record.downMs} ms, recovery ${record.recoveryMs} ms`,
    );
  }

  /** Edits the canary issue (a requirement nobody else edits); resolves with its number. */
  private async edit(): Promise<number> {
    const number = ++this.canaries;
    await this.world.sim.updateIssue(this.canary.project.gitlab.id, this.canary.iid, {
      as: this.canary.project.gitlab.developer,
      title: `Canary ${number}`,
    });
    return number;
  }

  /** ms from t0 until the canary requirement's title shows edit `number` or a later one (null after 5 minutes). */
  private async reflected(number: number, t0: number): Promise<number | null> {
    const deadline = t0 + 300_000;
    while (Date.now() < deadline) {
      const response = await this.world
        .core<{ title?: string }>(
          'requirement-sync',
          'GET',
          `/v1/projects/${this.canary.project.projectId}/requirements/${this.canary.requirementId}`,
          undefined,
          1,
        )
        .catch(() => undefined);
      const seen = Number(/^Canary (\d+)$/.exec(response?.body?.title ?? '')?.[1] ?? 0);
      if (seen >= number) return Date.now() - t0;
      await sleep(250);
    }
    return null;
  }
}
