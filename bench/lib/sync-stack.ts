import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

import { connect, type NatsConnection } from 'nats';

import {
  GitlabSimClient,
  SIM_ACCESS,
  TestStack,
  type SimBulkIssues,
  type StackOptions,
} from '@testkase/testing';

/**
 * The stack the requirement-sync benchmarks run: gitlab-sim, webhook-gateway, connection-service
 * and requirement-sync from dist, on a fresh database and NATS prefix. Projects are connected the
 * way TestKase core does it, through connection-service's API.
 */
export class SyncBenchStack {
  private constructor(
    readonly stack: TestStack,
    readonly sim: GitlabSimClient,
    readonly nc: NatsConnection,
  ) {}

  static async start(
    label: string,
    env: Record<string, string> = {},
    options: Pick<StackOptions, 'apps' | 'nodeArgs'> & { envAll?: Record<string, string> } = {},
  ): Promise<SyncBenchStack> {
    const stack = await TestStack.start({
      apps: options.apps ?? ['webhook-gateway', 'connection-service', 'requirement-sync'],
      label,
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
      env: {
        '*': options.envAll ?? {},
        'requirement-sync': { SYNC_SCHEDULER_TICK: '200ms', ...env },
      },
    });
    const nc = await connect({ servers: stack.environment.natsUrl, name: `bench-${label}` });
    return new SyncBenchStack(stack, new GitlabSimClient(stack.url('gitlab-sim')), nc);
  }

  subject(subject: string): string {
    return `${this.stack.environment.natsPrefix}.${subject}`;
  }

  /** A project with a Maintainer token (the integration) and a Developer (who edits issues). */
  async project(
    issues: SimBulkIssues,
  ): Promise<{ id: number; path: string; webUrl: string; token: string; developer: string }> {
    const suffix = randomBytes(3).toString('hex');
    const bot = await this.sim.createUser({ username: `bot-${suffix}` });
    const developer = await this.sim.createUser({ username: `dev-${suffix}` });
    const token = await this.sim.createToken({ username: bot.username, scopes: ['api'] });
    const info = await this.sim.createProject({ path: `bench-${suffix}/project-${suffix}` });
    await this.sim.addMember({
      project: info.id,
      username: bot.username,
      accessLevel: SIM_ACCESS.maintainer,
    });
    await this.sim.addMember({
      project: info.id,
      username: developer.username,
      accessLevel: SIM_ACCESS.developer,
    });
    await this.sim.seedIssues(info.id, { author: developer.username, ...issues });
    return {
      id: info.id,
      path: info.pathWithNamespace,
      webUrl: info.webUrl,
      token: token.token,
      developer: developer.username,
    };
  }

  /** `PUT /v1/projects/:projectId/connection`; returns the connection id. */
  async connect(
    projectId: string,
    project: { path: string; webUrl: string; token: string },
  ): Promise<string> {
    const response = await this.stack.core<{ connectionId?: string; id?: string }>(
      'connection-service',
      'PUT',
      `/v1/projects/${projectId}/connection`,
      {
        platform: 'gitlab',
        instanceUrl: new URL(project.webUrl).origin,
        projectRef: project.path,
        token: project.token,
      },
    );
    const connectionId = response.body.connectionId ?? response.body.id;
    if (response.status >= 300 || !connectionId) {
      throw new Error(`connect answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    return connectionId;
  }

  /** Messages stored on one subject of a stream (without reading them). */
  async storedCount(stream: string, subject: string): Promise<number> {
    const jsm = await this.nc.jetstreamManager();
    const info = await jsm.streams.info(`${this.stack.environment.natsPrefix}_${stream}`, {
      subjects_filter: this.subject(subject),
    });
    return Object.values(info.state.subjects ?? {}).reduce((sum, count) => sum + count, 0);
  }

  /** Peak resident memory (VmHWM) of an app's process, in MiB. */
  peakRssMiB(app: 'requirement-sync'): number {
    const status = readFileSync(`/proc/${this.stack.app(app).pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  }

  /**
   * How many times the simulator counts one API request in gitlab_sim_http_requests_total (its
   * list routes, written on a hijacked reply, are counted twice in some versions): measured once
   * with a request of our own.
   */
  async requestCountFactor(project: { id: number; token: string }): Promise<number> {
    const route = '/api/v4/projects/:id/issues';
    const calls = 10;
    const before = await this.simCounter('gitlab_sim_http_requests_total', { route });
    for (let call = 0; call < calls; call += 1) {
      await (
        await fetch(`${this.stack.url('gitlab-sim')}/api/v4/projects/${project.id}/issues?per_page=1`, {
          headers: { 'private-token': project.token },
        })
      ).text();
    }
    // The second count, if any, happens after the response has been sent.
    await sleep(200);
    const counted = (await this.simCounter('gitlab_sim_http_requests_total', { route })) - before;
    return Math.max(1, Math.round(counted / calls));
  }

  /** Sum of a simulator counter, over the series whose labels match. */
  async simCounter(name: string, labels: Record<string, string | RegExp> = {}): Promise<number> {
    const text = await (await fetch(`${this.stack.url('gitlab-sim')}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const ok = Object.entries(labels).every(([key, expected]) => {
        const value = new RegExp(`${key}="([^"]*)"`).exec(line)?.[1];
        return (
          value !== undefined && (typeof expected === 'string' ? value === expected : expected.test(value))
        );
      });
      if (ok) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  }

  async stop(): Promise<void> {
    await this.nc.close().catch(() => undefined);
    await this.stack.stop();
  }
}

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) a process has used so far, from /proc (0 once it is gone). */
export function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the command).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Pids of every process whose command name is `name` (e.g. postgres, nats-server), optionally only
 * those whose command line mentions `mentioning` (a Postgres backend shows its database name).
 */
export function pidsOf(name: string, mentioning?: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== name) return false;
        return mentioning === undefined || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mentioning);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** CPU seconds used by each named part of the system, for a before/after difference. */
export function cpuSnapshot(parts: Record<string, () => number[]>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(parts).map(([name, pids]) => [
      name,
      pids().reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
    ]),
  );
}
