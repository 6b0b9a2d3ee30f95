import type { DefectV1, RequirementV1 } from '@testkase/contracts';
import { TEST_CORE_API_TOKEN, type GitlabSimClient, type SimProject } from '@testkase/testing';

import type { Service, Topology } from './topology';

/** Longest a single HTTP call of the soak may take before it counts as failed. */
export const REQUEST_TIMEOUT_MS = 20_000;

export interface SoakProject {
  readonly index: number;
  readonly gitlab: SimProject;
  /** A token of the Developer, for the soak's own REST reads (its own rate-limit budget). */
  readonly readToken: string;
  readonly projectId: string;
  connectionId: string;
  /** requirement id by iid, from the backfill. */
  readonly requirements: Map<number, string>;
  /** Requirement issues the GitLab side edits (not the canary). */
  readonly editable: number[];
  /** What the driver believes each requirement issue's state is (only it changes them). */
  readonly state: Map<number, 'opened' | 'closed'>;
  /** iids of pushed defects' issues, as defect-sync answered them. */
  readonly defectIssues: number[];
}

export interface LinkState {
  key: string;
  title: string;
  url: string;
  status: string;
}

export interface DefectModel {
  readonly project: SoakProject;
  readonly defectId: string;
  readonly title: string;
  /** The push answered 201/200/202. */
  accepted: boolean;
  iid: number | null;
  /** PATCH requests sent (retries included: each may have been carried out). */
  patches: number;
  /** Comment requests sent (retries included). */
  comments: number;
}

export interface CommentModel {
  readonly defect: DefectModel;
  readonly commentId: string;
  accepted: boolean;
}

/** What the soak asked of the system, the figures it counts, and how it reaches every part. */
export class World {
  readonly projects: SoakProject[] = [];
  readonly defects = new Map<string, DefectModel>();
  readonly comments = new Map<string, CommentModel>();
  /** Requirement id → linked test cases (what TestKase says is linked at the end). */
  readonly links = new Map<
    string,
    { project: SoakProject; iid: number; cases: Map<string, LinkState>; uncertain: boolean }
  >();
  /** Link requests (PUT/DELETE, retries included: each may have been carried out) per requirement id. */
  readonly linkChanges = new Map<string, number>();
  readonly counts = {
    gitlabEdits: 0,
    gitlabNotes: 0,
    gitlabSkipped: 0,
    controlErrors: 0,
    coreActions: new Map<string, number>(),
    coreStatuses: new Map<string, number>(),
    coreSkipped: 0,
    coreRetries: 0,
    coreFailed: 0,
  };
  private next = 0;

  constructor(
    readonly topology: Topology,
    readonly sim: GitlabSimClient,
  ) {}

  /**
   * An HTTP call to any live replica of `app` with the core token, as TestKase core reaches a
   * Service; a refused connection, a reset or a 5xx is tried again on another replica (every call
   * the soak makes is idempotent: ids are the caller's), up to `attempts` times.
   */
  async core<T = unknown>(
    app: Service,
    method: string,
    route: string,
    body?: unknown,
    attempts = 8,
  ): Promise<{ status: number; body: T; attempts: number }> {
    let last: unknown;
    let sent = 0;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const live = this.topology.live(app);
      if (live.length === 0) {
        last = new Error(`no live ${app}`);
        await sleep(500);
        continue;
      }
      const target = live[this.next++ % live.length]!;
      try {
        sent += 1;
        const response = await fetch(`${target.url}${route}`, {
          method,
          headers: {
            authorization: `Bearer ${TEST_CORE_API_TOKEN}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        if (response.status >= 500) {
          last = new Error(`${method} ${route} answered ${response.status}: ${text.slice(0, 300)}`);
          if (attempt > 0) this.counts.coreRetries += 1;
          await sleep(300 * (attempt + 1));
          continue;
        }
        return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, attempts: sent };
      } catch (error) {
        last = error;
        this.counts.coreRetries += 1;
        await sleep(300 * (attempt + 1));
      }
    }
    throw new CallFailed(last instanceof Error ? last.message : String(last), sent);
  }

  /** Every requirement requirement-sync lists for a project. */
  async requirementsOf(project: SoakProject): Promise<RequirementV1[]> {
    const items: RequirementV1[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=200&cursor=${encodeURIComponent(cursor)}` : 'limit=200';
      const page = await this.core<{ items?: RequirementV1[]; nextCursor?: string | null }>(
        'requirement-sync',
        'GET',
        `/v1/projects/${project.projectId}/requirements?${query}`,
      );
      if (page.status !== 200) throw new Error(`requirements of ${project.projectId}: ${page.status}`);
      items.push(...(page.body.items ?? []));
      cursor = page.body.nextCursor ?? null;
    } while (cursor);
    return items;
  }

  async defect(model: DefectModel): Promise<DefectV1 | undefined> {
    const response = await this.core<DefectV1>(
      'defect-sync',
      'GET',
      `/v1/projects/${model.project.projectId}/defects/${model.defectId}`,
    );
    return response.status === 200 ? response.body : undefined;
  }

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

/**
 * A call no replica answered. `attempts` requests went out, and each may have been carried out
 * (a reply lost to a kill or a timeout): what the scenario may have asked for.
 */
export class CallFailed extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** Requests sent by a call that answered or failed (see World.core). */
export const attemptsOf = (outcome: { attempts: number } | unknown): number =>
  outcome instanceof CallFailed ? outcome.attempts : ((outcome as { attempts?: number }).attempts ?? 1);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const PRIORITY_LABELS = ['priority::critical', 'priority::high', 'priority::medium', 'priority::low'];
/** Requirement priority from the issue's labels (docs/ARCHITECTURE.md, "Requirements"). */
export function requirementPriority(labels: readonly string[]): string {
  if (labels.includes('priority::critical')) return 'P0';
  if (labels.includes('priority::high')) return 'P1';
  if (labels.includes('priority::medium')) return 'P2';
  if (labels.includes('priority::low')) return 'P3';
  return 'P2';
}
/** The label a defect priority maps to (docs/ARCHITECTURE.md, "Defect push"). */
export const DEFECT_PRIORITY_LABEL: Record<string, string> = {
  Blocker: 'priority::critical',
  Critical: 'priority::high',
  Major: 'priority::medium',
  Minor: 'priority::low',
  Trivial: 'priority::low',
};
export const DEFECT_STATE: Record<string, 'opened' | 'closed'> = {
  Open: 'opened',
  'In-Progress': 'opened',
  Closed: 'closed',
  Achieved: 'closed',
};
