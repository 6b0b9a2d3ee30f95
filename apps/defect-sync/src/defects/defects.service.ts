import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ConnectionProjection, LaneSignals, type ConnectionRecord } from '@testkase/consumer-kit';
import type { DefectV1 } from '@testkase/contracts';
import { Outbox } from '@testkase/platform';
import { planPriorityLabels, stateEventFor } from '@testkase/sync-rules';
import { AppError, ValidationError } from '@testkase/util';

import { DEFECT_SYNC_CONFIG } from '../config/config.token';
import type { DefectSyncConfig } from '../config/defect-sync.config';
import { pushStartedEvent } from './defect-events';
import { toDefectV1, type DefectField, type DefectRecord } from './defect.record';
import { DefectRepository, type DefectColumns } from './defect.repository';
import type { PatchDefectBody } from './dto/patch-defect.dto';
import type { PushDefectBody } from './dto/push-defect.dto';
import { ourIssue } from './gitlab-merge';
import { descriptionMarkdown, sameDescription, type ExecutionContext } from './issue-content';

/** How a push ended for its caller: the issue was created now, existed already, or is still on its way. */
export type PushOutcome = 'created' | 'existing' | 'pending';

/** Whether GitLab already shows `next`'s value of `field` (nothing to write). */
function shownOnGitlab(
  seen: DefectRecord,
  next: DefectRecord,
  ours: ReturnType<typeof ourIssue>,
  field: DefectField,
): boolean {
  switch (field) {
    case 'title':
      return ours.title === seen.gl_title;
    case 'description':
      return sameDescription(ours.description, seen.gl_description ?? '');
    case 'status':
      return seen.gl_state !== null && stateEventFor(next.status, seen.gl_state) === null;
    case 'priority': {
      const plan = planPriorityLabels(seen.gl_labels ?? [], next.priority);
      return plan.add.length === 0 && plan.remove.length === 0;
    }
  }
}

/** How often a waiting request reads the row when the lane may run on another replica. */
const POLL_MS = 200;

function contextOf(body: PushDefectBody): ExecutionContext | null {
  if (!body.context) return null;
  const { testCaseKey, testCaseTitle, testCaseUrl, cycle, executionUrl, failedStep } = body.context;
  const context = { testCaseKey, testCaseTitle, testCaseUrl, cycle, executionUrl, failedStep };
  const present = Object.fromEntries(Object.entries(context).filter(([, value]) => value !== undefined));
  return Object.keys(present).length > 0 ? (present as ExecutionContext) : null;
}

/**
 * The use cases TestKase core calls (HTTP and gRPC): push a defect, change it, read its link. A push
 * or a change is recorded at once and carried out by the connection's lane; the request waits up to
 * PUSH_WAIT for it and otherwise answers `pending` (the events follow when it is done).
 */
@Injectable()
export class DefectsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ConnectionProjection,
    private readonly defects: DefectRepository,
    private readonly outbox: Outbox,
    private readonly signals: LaneSignals,
    @Inject(DEFECT_SYNC_CONFIG) private readonly config: DefectSyncConfig,
  ) {}

  async get(projectId: string, defectId: string): Promise<DefectV1> {
    const record = await this.defects.find(this.dataSource.manager, projectId, defectId);
    if (!record) throw new AppError('NOT_FOUND', 'This project has no defect with this id pushed to GitLab');
    return toDefectV1(record);
  }

  /**
   * Exactly one issue per defect: the first push records the defect (concurrent pushes find that
   * row and wait for the same result), a second push answers the existing link, a push that failed
   * for good is tried again with the new content.
   */
  async push(
    projectId: string,
    defectId: string,
    body: PushDefectBody,
  ): Promise<{ outcome: PushOutcome; defect: DefectV1 }> {
    const requestedAt = new Date();
    const connection = await this.activeConnection(projectId);
    if (!connection) {
      throw new AppError('NOT_CONNECTED', 'This TestKase project is not connected to a GitLab project');
    }
    const content = {
      title: body.title,
      description: descriptionMarkdown(body.description ?? '', body.descriptionFormat ?? 'html'),
      url: body.url,
      context: contextOf(body),
      priority: body.priority,
      status: body.status,
    };
    // Only the request that recorded (or re-queued) the push answers `created`; concurrent ones share its result.
    let initiated = false;
    const record = await this.dataSource.transaction(async (tx) => {
      await this.connections.enterGate(tx, connection.connection_id);
      const current = await this.connections.find<ConnectionRecord>(tx, connection.connection_id);
      if (!current || current.state !== 'active') {
        throw new AppError('NOT_CONNECTED', 'This TestKase project is not connected to a GitLab project');
      }
      const { record: row, inserted } = await this.defects.insertQueued(tx, {
        projectId,
        defectId,
        connectionId: current.connection_id,
        instanceUrl: current.instance_url,
        gitlabProjectId: Number(current.gitlab_project_id),
        ...content,
      });
      if (inserted) {
        await this.outbox.addMany(tx, [pushStartedEvent(row)]);
        initiated = true;
        return row;
      }
      const retryable = row.push_state === 'failed' || (row.detached_at !== null && row.iid === null);
      if (!retryable) return row;
      const again = await this.defects.update(
        tx,
        row.id,
        {
          ...content,
          connection_id: current.connection_id,
          instance_url: current.instance_url,
          gitlab_project_id: current.gitlab_project_id,
          detached_at: null,
          push_state: 'queued',
          error_code: null,
          error_message: null,
          error_at: null,
          failures: 0,
          field_times: {},
          dirty: [],
          next_attempt_at: new Date(),
        },
        { bump: true },
      );
      if (!again) throw new Error('a locked defect row could not be updated');
      await this.outbox.addMany(tx, [pushStartedEvent(again)]);
      initiated = true;
      return again;
    });
    if (record.push_state === 'created') return { outcome: 'existing', defect: toDefectV1(record) };
    if (record.connection_id) this.signals.work(record.connection_id);
    const settled = await this.waitFor(
      record.id,
      (row) => row.push_state !== 'queued' || this.waitsForToken(row),
    );
    if (settled.push_state === 'created') {
      const createdNow = initiated && settled.pushed_at !== null && settled.pushed_at >= requestedAt;
      return { outcome: createdNow ? 'created' : 'existing', defect: toDefectV1(settled) };
    }
    if (settled.push_state === 'failed' || this.waitsForToken(settled)) {
      throw new AppError(
        (settled.error_code ?? 'GITLAB_REJECTED') as 'GITLAB_REJECTED',
        settled.error_message ?? 'GitLab refused the issue',
        { details: { defect: toDefectV1(settled) } },
      );
    }
    return { outcome: 'pending', defect: toDefectV1(settled) };
  }

  /**
   * TestKase changed the defect. Each changed field is timed (the later edit wins against a GitLab
   * edit of the same field) and, unless GitLab already shows it, queued for the lane: status by the
   * status table (Open ↔ In-Progress changes nothing on GitLab), priority by its label (Minor ↔
   * Trivial neither).
   */
  async patch(projectId: string, defectId: string, body: PatchDefectBody): Promise<DefectV1> {
    const changes: Partial<Pick<DefectRecord, DefectField>> = {};
    if (body.title !== undefined) changes.title = body.title;
    if (body.description !== undefined)
      changes.description = descriptionMarkdown(body.description, body.descriptionFormat ?? 'html');
    if (body.priority !== undefined) changes.priority = body.priority;
    if (body.status !== undefined) changes.status = body.status;
    if (Object.keys(changes).length === 0) {
      throw new ValidationError(
        'Nothing to change: give at least one of title, description, priority, status',
      );
    }
    const written = await this.dataSource.transaction(async (tx) => {
      const record = await this.defects.find(tx, projectId, defectId);
      if (!record)
        throw new AppError('NOT_FOUND', 'This project has no defect with this id pushed to GitLab');
      if (record.connection_id) await this.connections.enterGate(tx, record.connection_id);
      const locked = await this.defects.findById(tx, record.id, true);
      if (!locked)
        throw new AppError('NOT_FOUND', 'This project has no defect with this id pushed to GitLab');
      if (locked.detached_at) {
        throw new AppError(
          'NOT_CONNECTED',
          'This defect is no longer synced: the project was disconnected from GitLab',
        );
      }
      const now = new Date().toISOString();
      const next = { ...locked, ...changes };
      const changed = (Object.keys(changes) as DefectField[]).filter(
        (field) => JSON.stringify(locked[field]) !== JSON.stringify(next[field]),
      );
      if (changed.length === 0) return locked;
      const fieldTimes = { ...locked.field_times };
      for (const field of changed) fieldTimes[field] = now;
      const dirty = new Set(locked.dirty);
      if (locked.push_state === 'created') {
        const ours = ourIssue(next);
        for (const field of changed) {
          const shown = shownOnGitlab(locked, next, ours, field);
          if (shown) dirty.delete(field);
          else dirty.add(field);
        }
      }
      const columns: DefectColumns = { ...changes, field_times: fieldTimes, dirty: [...dirty] };
      if (dirty.size > 0) columns.next_attempt_at = new Date();
      return (await this.defects.update(tx, locked.id, columns, { bump: true })) ?? locked;
    });
    if (written.dirty.length === 0 || !written.connection_id) return toDefectV1(written);
    this.signals.work(written.connection_id);
    return toDefectV1(
      await this.waitFor(written.id, (row) => row.dirty.length === 0 || row.error_code !== null),
    );
  }

  /**
   * The project's active connection. A push can arrive moments after the connect that
   * connection-service answered, before its event reached this service: it waits up to PUSH_WAIT
   * for the connection to show up rather than answering NOT_CONNECTED to a connected project.
   */
  private async activeConnection(projectId: string): Promise<ConnectionRecord | null> {
    const deadline = Date.now() + this.config.PUSH_WAIT;
    for (;;) {
      const connection = await this.connections.activeForProject<ConnectionRecord>(
        this.dataSource.manager,
        projectId,
      );
      if (connection || Date.now() >= deadline) return connection;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, deadline - Date.now())));
    }
  }

  /** The push waits for a new token (GitLab refused the current one). */
  private waitsForToken(row: DefectRecord): boolean {
    return (
      (row.error_code === 'AUTH_FAILED' || row.error_code === 'TOKEN_EXPIRED') && row.next_attempt_at === null
    );
  }

  /** Waits up to PUSH_WAIT for `done`, signalled by a lane here or seen by polling; returns the row as it is then. */
  private async waitFor(id: string, done: (row: DefectRecord) => boolean): Promise<DefectRecord> {
    const deadline = Date.now() + this.config.PUSH_WAIT;
    for (;;) {
      const row = await this.defects.findById(this.dataSource.manager, id);
      if (!row) throw new AppError('NOT_FOUND', 'The defect disappeared');
      const left = deadline - Date.now();
      if (done(row) || left <= 0) return row;
      await this.signals.next(id, Math.min(POLL_MS, left));
    }
  }
}
