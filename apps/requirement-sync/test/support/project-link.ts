import { randomUUID } from 'node:crypto';

import { DefectPushFinished, DefectPushStarted } from '@testkase/contracts';
import type { TestStack } from '@testkase/testing';
import { createIssueHook, type SimProject } from '@testkase/testing';

import { FakeConnectionService } from './fake-connection-service';
import { WebhookRelay } from './webhook-relay';

/** A defect as a test pushes it to GitLab. */
export interface TestDefect {
  readonly defectId: string;
  readonly title: string;
  readonly description: string;
}

/** How a test connects a TestKase project to a simulator project, and takes it apart again. */
export interface ProjectLink {
  connect(projectId: string, project: SimProject): Promise<string>;
  /** Pushes a defect to the connected project's GitLab (as defect-sync does); resolves to the issue's iid. */
  pushDefect(projectId: string, defect: TestDefect): Promise<number>;
  disconnect(projectId: string): Promise<void>;
  resync(projectId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * requirement-sync alone: a fake connection-service (events and credentials) and a relay in place
 * of the gateway. Used by the integration specs.
 */
export class FakeProjectLink implements ProjectLink {
  private readonly connections = new Map<string, { connectionId: string; project: SimProject }>();

  private constructor(
    readonly service: FakeConnectionService,
    readonly relay: WebhookRelay,
  ) {}

  static async start(stack: TestStack): Promise<FakeProjectLink> {
    const { natsUrl, natsPrefix } = stack.environment;
    return new FakeProjectLink(
      await FakeConnectionService.start(natsUrl, natsPrefix),
      await WebhookRelay.start(natsUrl, natsPrefix),
    );
  }

  connectionOf(projectId: string): { connectionId: string; project: SimProject } {
    const connection = this.connections.get(projectId);
    if (!connection) throw new Error(`${projectId} is not connected`);
    return connection;
  }

  async connect(projectId: string, project: SimProject, options: { hook?: boolean } = {}): Promise<string> {
    const connectionId = randomUUID();
    const instanceUrl = new URL(project.webUrl).origin;
    this.service.setCredentials({
      connectionId,
      projectId,
      instanceUrl,
      gitlabProjectId: project.id,
      projectWebUrl: project.webUrl,
      token: project.token,
      tokenUserId: project.botUserId,
      caCertificate: null,
    });
    if (options.hook ?? true) await createIssueHook(project, this.relay.hookUrl(connectionId));
    this.connections.set(projectId, { connectionId, project });
    await this.service.connected({
      connectionId,
      projectId,
      platform: 'gitlab',
      instanceUrl,
      gitlabProjectId: project.id,
      projectPath: project.path,
      projectWebUrl: project.webUrl,
      mode: 'webhook_managed',
      tokenUserId: project.botUserId,
      reconnect: false,
      connectedAt: new Date().toISOString(),
    });
    return connectionId;
  }

  /**
   * What defect-sync does, seen from requirement-sync: `push_started`, the issue created by the
   * integration's user with the marker, then `push_finished` naming it.
   */
  async pushDefect(projectId: string, defect: TestDefect): Promise<number> {
    const { connectionId, project } = this.connectionOf(projectId);
    const ref = { connectionId, projectId, defectId: defect.defectId };
    await this.service.publish(DefectPushStarted, { ...ref, startedAt: new Date().toISOString() });
    const issue = await project.sim.createIssue(project.id, {
      as: project.bot,
      title: defect.title,
      description: `${defect.description}\n\n<!-- testkase:defect:${defect.defectId} -->`,
    });
    await this.service.publish(DefectPushFinished, {
      ...ref,
      outcome: 'linked',
      instanceUrl: new URL(project.webUrl).origin,
      gitlabProjectId: project.id,
      iid: issue.iid,
      finishedAt: new Date().toISOString(),
    });
    return issue.iid;
  }

  async disconnect(projectId: string): Promise<void> {
    const { connectionId, project } = this.connectionOf(projectId);
    this.service.removeCredentials(connectionId);
    this.connections.delete(projectId);
    await this.service.disconnected({
      connectionId,
      projectId,
      instanceUrl: new URL(project.webUrl).origin,
      gitlabProjectId: project.id,
    });
  }

  async resync(projectId: string): Promise<void> {
    await this.service.resync(this.connectionOf(projectId).connectionId, projectId);
  }

  async close(): Promise<void> {
    await this.relay.close().catch(() => undefined);
    await this.service.close().catch(() => undefined);
  }
}

/** The real apps: connection-service's API registers the hook on the gateway. Used by the e2e specs. */
export class RealProjectLink implements ProjectLink {
  constructor(private readonly stack: TestStack) {}

  async connect(projectId: string, project: SimProject): Promise<string> {
    const response = await this.stack.core<{ connectionId?: string; id?: string }>(
      'connection-service',
      'PUT',
      `/v1/projects/${encodeURIComponent(projectId)}/connection`,
      {
        platform: 'gitlab',
        instanceUrl: new URL(project.webUrl).origin,
        projectRef: project.path,
        token: project.token,
      },
    );
    if (response.status >= 300)
      throw new Error(`connect answered ${response.status}: ${JSON.stringify(response.body)}`);
    const connectionId = response.body.connectionId ?? response.body.id;
    if (!connectionId) throw new Error(`connect gave no connection id: ${JSON.stringify(response.body)}`);
    return connectionId;
  }

  async pushDefect(projectId: string, defect: TestDefect): Promise<number> {
    const response = await this.stack.core<{ defect?: { issue?: { iid: number } | null } }>(
      'defect-sync',
      'POST',
      `/v1/projects/${encodeURIComponent(projectId)}/defects/${encodeURIComponent(defect.defectId)}/push`,
      {
        title: defect.title,
        description: defect.description,
        descriptionFormat: 'markdown',
        priority: 'Critical',
        status: 'Open',
        url: `https://testkase.example.com/${projectId}/defects/${defect.defectId}`,
      },
    );
    const iid = response.body.defect?.issue?.iid;
    if (response.status >= 300 || !iid)
      throw new Error(`push answered ${response.status}: ${JSON.stringify(response.body)}`);
    return iid;
  }

  async disconnect(projectId: string): Promise<void> {
    const response = await this.stack.core(
      'connection-service',
      'DELETE',
      `/v1/projects/${encodeURIComponent(projectId)}/connection`,
    );
    if (response.status >= 300)
      throw new Error(`disconnect answered ${response.status}: ${JSON.stringify(response.body)}`);
  }

  async resync(projectId: string): Promise<void> {
    const response = await this.stack.core(
      'connection-service',
      'POST',
      `/v1/projects/${encodeURIComponent(projectId)}/connection/resync`,
    );
    if (response.status >= 300)
      throw new Error(`resync answered ${response.status}: ${JSON.stringify(response.body)}`);
  }

  async close(): Promise<void> {
    // The stack owns the apps; nothing of its own to close.
  }
}
