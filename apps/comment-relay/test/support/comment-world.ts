import { randomBytes } from 'node:crypto';

import type { CloudEvent, DefectV1, RequirementV1 } from '@testkase/contracts';
import {
  CoreGrpcClient,
  createSimProject,
  eventually,
  freePort,
  NatsProbe,
  TestStack,
  type SimProject,
} from '@testkase/testing';

/** A note as GitLab's REST API shows it (the fields the tests read). */
export interface StoredNote {
  id: number;
  body: string;
  system: boolean;
  internal: boolean;
}

/** A connected TestKase project and its GitLab project. */
export interface LinkedProject {
  readonly projectId: string;
  readonly connectionId: string;
  readonly gitlab: SimProject;
}

export interface LinksAnswer {
  testCases?: Array<{ testCaseId: string; key: string; title: string; url: string; status: string | null }>;
  comment?: { noteId: number | null; syncStatus: string; waiting: boolean; error: { code: string } | null };
  error?: { code: string; message: string };
}

export interface CommentAnswer {
  commentId?: string;
  noteId?: number | null;
  syncStatus?: string;
  deleted?: boolean;
  error?: { code: string; message: string };
}

const FAST = {
  SYNC_SCHEDULER_TICK: '100ms',
  RECONCILE_INTERVAL: '2s',
  RECONCILE_SAFETY_MARGIN: '1m',
  RETRY_MAX_INTERVAL: '2s',
  CREDENTIALS_CACHE_TTL: '2s',
  LANE_LINGER: '500ms',
};

/**
 * The running system as comment-relay's end-to-end tests see it: gitlab-sim, the gateway,
 * connection-service, requirement-sync, defect-sync and comment-relay on real Postgres and NATS,
 * driven only as GitLab and TestKase core would (HTTP, gRPC, webhooks, NATS events).
 */
export class CommentWorld {
  private constructor(
    readonly stack: TestStack,
    readonly probe: NatsProbe,
    readonly grpc: CoreGrpcClient,
  ) {}

  static async start(label: string, env: Record<string, string> = {}): Promise<CommentWorld> {
    const grpcPort = await freePort();
    const stack = await TestStack.start({
      label,
      apps: ['webhook-gateway', 'connection-service', 'requirement-sync', 'defect-sync', 'comment-relay'],
      env: {
        'comment-relay': {
          GRPC_PORT: String(grpcPort),
          LINK_DEBOUNCE: '300ms',
          LINK_MAX_DELAY: '3s',
          ...FAST,
          ...env,
        },
        'defect-sync': FAST,
        'requirement-sync': { SYNC_SCHEDULER_TICK: '100ms' },
        'connection-service': { HEALTH_CHECK_INTERVAL: '2s' },
      },
    });
    const probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    return new CommentWorld(
      stack,
      probe,
      new CoreGrpcClient('comments', `127.0.0.1:${grpcPort}`, stack.coreToken),
    );
  }

  get simUrl(): string {
    return this.stack.url('gitlab-sim');
  }

  async linkedProject(name = 'tk'): Promise<LinkedProject> {
    const gitlab = await createSimProject(this.simUrl);
    const projectId = `${name}-${randomBytes(3).toString('hex')}`;
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
    if (response.status >= 300 || !connectionId) throw new Error(`connect answered ${response.status}`);
    return { projectId, connectionId, gitlab };
  }

  async resync(projectId: string): Promise<void> {
    await this.stack.core(
      'connection-service',
      'POST',
      `/v1/projects/${encodeURIComponent(projectId)}/connection/resync`,
    );
  }

  /** Opens an issue on GitLab and waits until requirement-sync has imported it (comment-relay hears of it next). */
  async requirement(
    project: LinkedProject,
    input: { title?: string; confidential?: boolean } = {},
  ): Promise<{ id: string; iid: number }> {
    const issue = await project.gitlab.sim.createIssue(project.gitlab.id, {
      as: project.gitlab.developer,
      title: input.title ?? 'Users can pay with a saved card',
      confidential: input.confidential,
    });
    const requirement = await eventually(
      async () => {
        const { body } = await this.stack.core<{ items?: RequirementV1[] }>(
          'requirement-sync',
          'GET',
          `/v1/projects/${encodeURIComponent(project.projectId)}/requirements?limit=200`,
        );
        const found = (body.items ?? []).find((item) => item.external.iid === issue.iid);
        if (!found) throw new Error('not imported yet');
        return found;
      },
      { timeoutMs: 30_000 },
    );
    return { id: requirement.id, iid: issue.iid };
  }

  link(projectId: string, requirementId: string, testCaseId: string, input: Record<string, unknown>) {
    return this.stack.core<LinksAnswer>(
      'comment-relay',
      'PUT',
      `/v1/projects/${encodeURIComponent(projectId)}/requirements/${requirementId}/test-cases/${encodeURIComponent(testCaseId)}`,
      {
        key: testCaseId,
        title: `Test ${testCaseId}`,
        url: `https://testkase.example.com/tc/${testCaseId}`,
        ...input,
      },
    );
  }

  unlink(projectId: string, requirementId: string, testCaseId: string) {
    return this.stack.core<LinksAnswer>(
      'comment-relay',
      'DELETE',
      `/v1/projects/${encodeURIComponent(projectId)}/requirements/${requirementId}/test-cases/${encodeURIComponent(testCaseId)}`,
    );
  }

  links(projectId: string, requirementId: string) {
    return this.stack.core<LinksAnswer>(
      'comment-relay',
      'GET',
      `/v1/projects/${encodeURIComponent(projectId)}/requirements/${requirementId}/test-cases`,
    );
  }

  /** Pushes a defect through defect-sync and waits until comment-relay knows its issue. */
  async defect(project: LinkedProject, defectId: string): Promise<{ iid: number }> {
    const push = await this.stack.core<{ defect?: DefectV1 }>(
      'defect-sync',
      'POST',
      `/v1/projects/${encodeURIComponent(project.projectId)}/defects/${defectId}/push`,
      {
        title: `Defect ${defectId}`,
        description: '<p>Broken.</p>',
        priority: 'Major',
        status: 'Open',
        url: `https://testkase.example.com/d/${defectId}`,
      },
    );
    if (push.status >= 300 && push.status !== 202) throw new Error(`push answered ${push.status}`);
    const defect = await eventually(
      async () => {
        const { body } = await this.stack.core<DefectV1>(
          'defect-sync',
          'GET',
          `/v1/projects/${encodeURIComponent(project.projectId)}/defects/${defectId}`,
        );
        if (!body.issue) throw new Error('not pushed yet');
        return body;
      },
      { timeoutMs: 30_000 },
    );
    if (!defect.issue) throw new Error('no issue');
    return { iid: defect.issue.iid };
  }

  comment(projectId: string, defectId: string, body: Record<string, unknown>) {
    return this.stack.core<CommentAnswer>(
      'comment-relay',
      'POST',
      `/v1/projects/${encodeURIComponent(projectId)}/defects/${defectId}/comments`,
      body,
    );
  }

  editComment(projectId: string, defectId: string, commentId: string, body: Record<string, unknown>) {
    return this.stack.core<CommentAnswer>(
      'comment-relay',
      'PUT',
      `/v1/projects/${encodeURIComponent(projectId)}/defects/${defectId}/comments/${commentId}`,
      body,
    );
  }

  deleteComment(projectId: string, defectId: string, commentId: string) {
    return this.stack.core<CommentAnswer>(
      'comment-relay',
      'DELETE',
      `/v1/projects/${encodeURIComponent(projectId)}/defects/${defectId}/comments/${commentId}`,
    );
  }

  getComment(projectId: string, defectId: string, commentId: string) {
    return this.stack.core<CommentAnswer>(
      'comment-relay',
      'GET',
      `/v1/projects/${encodeURIComponent(projectId)}/defects/${defectId}/comments/${commentId}`,
    );
  }

  /** The user notes (not system notes) of an issue, oldest first, read over GitLab's REST API. */
  async notes(gitlab: SimProject, iid: number): Promise<StoredNote[]> {
    const notes: StoredNote[] = [];
    for (let page = 1; ; page += 1) {
      const response = await fetch(
        `${this.simUrl}/api/v4/projects/${gitlab.id}/issues/${iid}/notes?sort=asc&per_page=100&page=${page}`,
        { headers: { 'PRIVATE-TOKEN': gitlab.token } },
      );
      if (!response.ok) throw new Error(`notes answered ${response.status}`);
      const items = (await response.json()) as Array<StoredNote & { author: { id: number } }>;
      notes.push(...items.filter((note) => !note.system));
      if (items.length < 100) return notes;
    }
  }

  async issueState(gitlab: SimProject, iid: number): Promise<string> {
    const response = await fetch(`${this.simUrl}/api/v4/projects/${gitlab.id}/issues/${iid}`, {
      headers: { 'PRIVATE-TOKEN': gitlab.token },
    });
    return ((await response.json()) as { state: string }).state;
  }

  /** Note writes (POST/PUT/DELETE on notes) the integration made to a GitLab project since `since`. */
  async noteWritesSince(gitlab: SimProject, since: number): Promise<number> {
    const requests = await gitlab.sim.apiRequests({
      since,
      project: gitlab.id,
      method: ['POST', 'PUT', 'DELETE'],
    });
    return requests.filter(
      (request) => request.username === gitlab.bot && /\/notes(\/\d+)?$/.test(request.path),
    ).length;
  }

  async events<T>(subject: string, projectId: string, defectId: string): Promise<Array<CloudEvent<T>>> {
    return (await this.probe.events<T>('TESTKASE_EVENTS', subject)).filter(
      (event) => event.subject === `${projectId}/${defectId}`,
    );
  }

  async stop(): Promise<void> {
    this.grpc.close();
    await this.probe.close();
    await this.stack.stop();
  }
}
