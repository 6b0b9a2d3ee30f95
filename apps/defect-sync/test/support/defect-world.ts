import { randomBytes } from 'node:crypto';

import type { CloudEvent, DefectV1 } from '@testkase/contracts';
import {
  CoreGrpcClient,
  createSimProject,
  eventually,
  freePort,
  NatsProbe,
  TestStack,
  type SimIssue,
  type SimProject,
  type StackOptions,
} from '@testkase/testing';

/** What a push sends (the defaults make a valid one). */
export interface PushInput {
  title?: string;
  description?: string;
  descriptionFormat?: 'html' | 'markdown';
  priority?: string;
  status?: string;
  url?: string;
  context?: Record<string, unknown>;
}

export interface PushAnswer {
  outcome?: 'created' | 'existing' | 'pending';
  defect?: DefectV1;
  error?: { code: string; message: string; details?: unknown };
}

/** A connected TestKase project and its GitLab project. */
export interface LinkedProject {
  readonly projectId: string;
  readonly connectionId: string;
  readonly gitlab: SimProject;
}

/**
 * The running system as defect-sync's end-to-end tests see it: gitlab-sim, the gateway,
 * connection-service and defect-sync on real Postgres and NATS, driven only as GitLab and TestKase
 * core would (HTTP, gRPC, webhooks, NATS events).
 */
export class DefectWorld {
  private constructor(
    readonly stack: TestStack,
    readonly probe: NatsProbe,
    readonly grpc: CoreGrpcClient,
    readonly grpcPort: number,
  ) {}

  static async start(
    label: string,
    options: {
      env?: Record<string, string>;
      simEnv?: Record<string, string>;
      apps?: StackOptions['apps'];
    } = {},
  ): Promise<DefectWorld> {
    const grpcPort = await freePort();
    const stack = await TestStack.start({
      label,
      apps: options.apps ?? ['webhook-gateway', 'connection-service', 'defect-sync'],
      env: {
        'defect-sync': {
          GRPC_PORT: String(grpcPort),
          SYNC_SCHEDULER_TICK: '100ms',
          RECONCILE_INTERVAL: '2s',
          RECONCILE_SAFETY_MARGIN: '1m',
          RETRY_MAX_INTERVAL: '2s',
          CREDENTIALS_CACHE_TTL: '2s',
          LANE_LINGER: '500ms',
          ...options.env,
        },
        'connection-service': { HEALTH_CHECK_INTERVAL: '2s' },
        'gitlab-sim': options.simEnv ?? {},
      },
    });
    const probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    return new DefectWorld(
      stack,
      probe,
      new CoreGrpcClient('defects', `127.0.0.1:${grpcPort}`, stack.coreToken),
      grpcPort,
    );
  }

  get simUrl(): string {
    return this.stack.url('gitlab-sim');
  }

  /** A new GitLab project connected to a new TestKase project through connection-service. */
  async linkedProject(name = 'tk'): Promise<LinkedProject> {
    const gitlab = await createSimProject(this.simUrl);
    const projectId = `${name}-${randomBytes(3).toString('hex')}`;
    const connectionId = await this.connect(projectId, gitlab);
    return { projectId, connectionId, gitlab };
  }

  async connect(projectId: string, gitlab: SimProject): Promise<string> {
    const response = await this.stack.core<{ connectionId?: string; id?: string }>(
      'connection-service',
      'PUT',
      `/v1/projects/${encodeURIComponent(projectId)}/connection`,
      {
        platform: 'gitlab',
        instanceUrl: new URL(gitlab.webUrl).origin,
        projectRef: gitlab.path,
        token: gitlab.token,
      },
    );
    const connectionId = response.body.connectionId ?? response.body.id;
    if (response.status >= 300 || !connectionId)
      throw new Error(`connect answered ${response.status}: ${JSON.stringify(response.body)}`);
    return connectionId;
  }

  async disconnect(projectId: string): Promise<void> {
    const response = await this.stack.core(
      'connection-service',
      'DELETE',
      `/v1/projects/${encodeURIComponent(projectId)}/connection`,
    );
    if (response.status >= 300) throw new Error(`disconnect answered ${response.status}`);
  }

  async resync(projectId: string): Promise<void> {
    await this.stack.core(
      'connection-service',
      'POST',
      `/v1/projects/${encodeURIComponent(projectId)}/connection/resync`,
    );
  }

  connectionStatus(projectId: string) {
    return this.stack.core<{ status: string }>(
      'connection-service',
      'GET',
      `/v1/projects/${encodeURIComponent(projectId)}/connection`,
    );
  }

  push(projectId: string, defectId: string, input: PushInput = {}) {
    return this.stack.core<PushAnswer>(
      'defect-sync',
      'POST',
      `/v1/projects/${encodeURIComponent(projectId)}/defects/${encodeURIComponent(defectId)}/push`,
      {
        title: 'Checkout fails with an expired card',
        description: '<p>Pay with an <strong>expired</strong> card.</p>',
        priority: 'Major',
        status: 'Open',
        url: `https://testkase.example.com/${projectId}/defects/${defectId}`,
        ...input,
      },
    );
  }

  patch(projectId: string, defectId: string, body: Record<string, unknown>) {
    return this.stack.core<DefectV1 & PushAnswer>(
      'defect-sync',
      'PATCH',
      `/v1/projects/${encodeURIComponent(projectId)}/defects/${encodeURIComponent(defectId)}`,
      body,
    );
  }

  get(projectId: string, defectId: string) {
    return this.stack.core<DefectV1 & PushAnswer>(
      'defect-sync',
      'GET',
      `/v1/projects/${encodeURIComponent(projectId)}/defects/${encodeURIComponent(defectId)}`,
    );
  }

  /** Pushes and waits until the issue exists; resolves to the defect. */
  async pushed(project: LinkedProject, defectId: string, input: PushInput = {}): Promise<DefectV1> {
    const answer = await this.push(project.projectId, defectId, input);
    if (answer.status >= 300 && answer.status !== 202) {
      throw new Error(`push answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return eventually(
      async () => {
        const { body } = await this.get(project.projectId, defectId);
        if (!body.issue) throw new Error(`not pushed yet: ${JSON.stringify(body)}`);
        return body;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  /** Issues of a GitLab project as the simulator has them. */
  async issues(gitlab: SimProject): Promise<SimIssue[]> {
    return (await gitlab.sim.state({ project: gitlab.id, limit: 100_000 })).issues as unknown as SimIssue[];
  }

  async issue(gitlab: SimProject, iid: number): Promise<SimIssue> {
    const found = (await this.issues(gitlab)).find((issue) => issue.iid === iid);
    if (!found) throw new Error(`no issue #${iid}`);
    return found;
  }

  /** Issues whose description carries the marker of `defectId`. */
  async issuesWithMarker(gitlab: SimProject, defectId: string): Promise<SimIssue[]> {
    return (await this.issues(gitlab)).filter((issue) =>
      (issue.description ?? '').includes(`<!-- testkase:defect:${defectId} -->`),
    );
  }

  /** Events defect-sync published for TestKase core about one defect. */
  async events<T = { defect: DefectV1 }>(
    subject: string,
    projectId: string,
    defectId: string,
  ): Promise<Array<CloudEvent<T>>> {
    return (await this.probe.events<T>('TESTKASE_EVENTS', subject)).filter(
      (event) => event.subject === `${projectId}/${defectId}`,
    );
  }

  /**
   * Writes (POST/PUT/PATCH/DELETE) the integration made to a GitLab project since `since`; with
   * `issues`, only writes of issues (not labels).
   */
  async writesSince(gitlab: SimProject, since: number, only?: 'issues'): Promise<number> {
    const requests = await gitlab.sim.apiRequests({
      since,
      project: gitlab.id,
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    });
    return requests.filter(
      (request) =>
        request.username === gitlab.bot && (only !== 'issues' || /\/issues(\/\d+)?$/.test(request.path)),
    ).length;
  }

  async stop(): Promise<void> {
    this.grpc.close();
    await this.probe.close();
    await this.stack.stop();
  }
}
