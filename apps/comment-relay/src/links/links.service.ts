import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { ConnectionProjection, LaneSignals } from '@testkase/consumer-kit';
import { AppError } from '@testkase/util';

import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import { syncStateOf, type SyncView } from '../lane/sync-view';
import { TargetRepository } from '../targets/target.repository';
import type { LinkCommentRecord, TestCaseLinkRecord } from './link.records';
import { LinkRepository, type Debounce, type LinkInput } from './link.repository';

/** A requirement's linked test cases and the state of their GitLab comment. */
export interface TestCaseLinksView {
  readonly projectId: string;
  readonly requirementId: string;
  readonly testCases: ReadonlyArray<{
    readonly testCaseId: string;
    readonly key: string;
    readonly title: string;
    readonly url: string;
    readonly status: string | null;
    readonly linkedAt: string;
    readonly updatedAt: string;
  }>;
  readonly comment: SyncView;
}

const notFound = () =>
  new AppError('NOT_FOUND', 'This project has no requirement with this id synced from GitLab');

/**
 * Links of test cases to synced requirements (HTTP and gRPC). A change is recorded at once; the
 * requirement's one GitLab comment follows from the connection's lane, debounced so that a burst
 * of changes ends in few writes. A link for a requirement comment-relay has not heard of yet waits
 * (TARGET_WAIT) for its first event; one of another project, or detached, is refused.
 */
@Injectable()
export class LinksService {
  private readonly debounce: Debounce;

  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly targets: TargetRepository,
    private readonly links: LinkRepository,
    private readonly signals: LaneSignals,
    @Inject(COMMENT_RELAY_CONFIG) private readonly config: CommentRelayConfig,
  ) {
    this.debounce = { quietMs: config.LINK_DEBOUNCE, maxDelayMs: config.LINK_MAX_DELAY };
  }

  async list(projectId: string, requirementId: string): Promise<TestCaseLinksView> {
    const tx = this.dataSource.manager;
    const comment = await this.links.findComment(tx, projectId, requirementId);
    if (!comment) {
      await this.target(tx, projectId, requirementId);
      return this.viewOf(projectId, requirementId, [], null);
    }
    return this.viewOf(
      projectId,
      requirementId,
      await this.links.links(tx, projectId, requirementId),
      comment,
    );
  }

  put(
    projectId: string,
    requirementId: string,
    testCaseId: string,
    link: LinkInput,
  ): Promise<TestCaseLinksView> {
    return this.change(projectId, requirementId, (tx) =>
      this.links.put(tx, projectId, requirementId, testCaseId, link),
    );
  }

  remove(projectId: string, requirementId: string, testCaseId: string): Promise<TestCaseLinksView> {
    return this.change(projectId, requirementId, async (tx) => {
      if (!(await this.links.remove(tx, projectId, requirementId, testCaseId))) {
        throw new AppError('NOT_FOUND', 'This test case is not linked to this requirement');
      }
      return true;
    });
  }

  private async change(
    projectId: string,
    requirementId: string,
    apply: (tx: EntityManager) => Promise<boolean>,
  ): Promise<TestCaseLinksView> {
    let wake: string | null = null;
    const view = await this.dataSource.transaction(async (tx) => {
      await this.targets.lockRequirement(tx, requirementId);
      const target = await this.target(tx, projectId, requirementId);
      let comment = await this.links.lockComment(tx, projectId, requirementId, target?.connection_id ?? null);
      if (
        !target &&
        comment.waiting_since &&
        Date.now() - comment.waiting_since.getTime() > this.config.TARGET_WAIT
      ) {
        throw notFound();
      }
      if (await apply(tx)) {
        comment = await this.links.changed(tx, comment.id, this.debounce);
        if (comment.connection_id && comment.next_attempt_at) wake = comment.connection_id;
      }
      return this.viewOf(
        projectId,
        requirementId,
        await this.links.links(tx, projectId, requirementId),
        comment,
      );
    });
    if (wake) this.signals.work(wake);
    return view;
  }

  /**
   * The requirement, if comment-relay knows it (null: not yet). Refused when it belongs to another
   * project, is detached, or its connection is gone.
   */
  private async target(tx: EntityManager, projectId: string, requirementId: string) {
    const target = await this.targets.findRequirement(tx, requirementId);
    if (!target) return null;
    if (target.project_id !== projectId) throw notFound();
    const connection = target.connection_id ? await this.connections.find(tx, target.connection_id) : null;
    if (target.sync_state !== 'synced' || !connection || connection.state !== 'active') {
      throw new AppError(
        'NOT_CONNECTED',
        'This requirement is no longer synced with GitLab (the project was disconnected): its test cases are not shown there',
      );
    }
    return target;
  }

  private viewOf(
    projectId: string,
    requirementId: string,
    links: readonly TestCaseLinkRecord[],
    comment: LinkCommentRecord | null,
  ): TestCaseLinksView {
    return {
      projectId,
      requirementId,
      testCases: links.map((link) => ({
        testCaseId: link.test_case_id,
        key: link.key,
        title: link.title,
        url: link.url,
        status: link.status,
        linkedAt: link.linked_at.toISOString(),
        updatedAt: link.updated_at.toISOString(),
      })),
      comment: syncStateOf(comment, this.config.TARGET_WAIT, 'REQUIREMENT_NOT_FOUND'),
    };
  }
}
