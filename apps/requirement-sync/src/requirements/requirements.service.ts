import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { RequirementUpserted, type RequirementField, type RequirementV1 } from '@testkase/contracts';
import { onlyRow, Outbox } from '@testkase/platform';
import {
  labelsToPriority,
  priorityLabelState,
  projectWebUrlFromIssueUrl,
  renderGitlabMarkdown,
} from '@testkase/sync-rules';
import { AppError, ValidationError } from '@testkase/util';

import { SCHEMA } from '../persistence/schema';
import type { PatchRequirementBody } from './dto/patch-requirement.dto';
import { DEFAULT_PAGE_SIZE, type ListRequirementsQuery } from './dto/requirement-query.dto';
import { eventRequirement } from './requirement-events';
import { toRequirementV1, type RequirementRecord } from './requirement.record';

const T = `"${SCHEMA}".requirements`;

interface CursorKey {
  instanceUrl: string;
  gitlabProjectId: string;
  iid: number;
}

const encodeCursor = (record: RequirementRecord): string =>
  Buffer.from(JSON.stringify([record.instance_url, record.gitlab_project_id, record.iid])).toString(
    'base64url',
  );

function decodeCursor(cursor: string): CursorKey {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      /^\d+$/.test(value[1]) &&
      Number.isSafeInteger(value[2])
    ) {
      return { instanceUrl: value[0], gitlabProjectId: value[1], iid: value[2] as number };
    }
  } catch {
    // reported below
  }
  throw new ValidationError('cursor is not one this API returned', { field: 'cursor' });
}

/** The fields of an edit that a synced requirement refuses (GitLab owns everything but an override of the priority). */
export const syncedReadOnlyFields = (body: PatchRequirementBody): Array<'title' | 'description' | 'status'> =>
  (['title', 'description', 'status'] as const).filter((field) => body[field] !== undefined);

const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** TestKase core's view of requirements: queries, edits once detached, and priority overrides while synced. */
@Injectable()
export class RequirementsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  /** One page in a stable order: GitLab instance, project, then iid. */
  async list(
    projectId: string,
    query: ListRequirementsQuery,
  ): Promise<{ items: RequirementV1[]; nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [projectId];
    const where = ['project_id = $1'];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (query.status) add((p) => `status = ${p}`, query.status);
    if (query.priority) add((p) => `priority = ${p}`, query.priority);
    if (query.syncState) add((p) => `sync_state = ${p}`, query.syncState);
    if (query.confidential !== undefined) add((p) => `confidential = ${p}`, query.confidential);
    if (query.label) add((p) => `labels @> ARRAY[${p}]::text[]`, query.label);
    if (query.q) add((p) => `(title ILIKE ${p} OR description_markdown ILIKE ${p})`, likePattern(query.q));
    if (query.cursor) {
      const key = decodeCursor(query.cursor);
      params.push(key.instanceUrl, key.gitlabProjectId, key.iid);
      const n = params.length;
      where.push(`(instance_url, gitlab_project_id, iid) > ($${n - 2}, $${n - 1}::bigint, $${n})`);
    }
    params.push(limit + 1);
    const rows: RequirementRecord[] = await this.dataSource.query(
      `SELECT * FROM ${T} WHERE ${where.join(' AND ')}
        ORDER BY instance_url, gitlab_project_id, iid LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toRequirementV1),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  /** @throws AppError NOT_FOUND when the project has no such requirement (another project's included). */
  async get(projectId: string, requirementId: string): Promise<RequirementV1> {
    const rows: RequirementRecord[] = await this.dataSource.query(
      `SELECT * FROM ${T} WHERE id = $1::uuid AND project_id = $2`,
      [requirementId, projectId],
    );
    const record = rows[0];
    if (!record) throw this.notFound(requirementId);
    return toRequirementV1(record);
  }

  /**
   * Edits a requirement and publishes `upserted` with the changed fields. A detached one takes any
   * field (TestKase owns it; the edits are remembered, so that a re-attach can say what GitLab's
   * values replaced). A synced one takes only `priority`: a TestKase override, `prioritySource:
   * 'testkase'`, kept until the issue's priority labels change on GitLab; `priority: null` gives the
   * priority back to the labels.
   * @throws AppError SYNCED_READ_ONLY for any other field while GitLab owns it; NOT_FOUND;
   *   VALIDATION_FAILED (empty edit)
   */
  async patch(projectId: string, requirementId: string, body: PatchRequirementBody): Promise<RequirementV1> {
    if (
      body.title === undefined &&
      body.description === undefined &&
      body.priority === undefined &&
      body.status === undefined
    ) {
      throw new ValidationError('Give at least one of title, description, priority, status');
    }
    return this.dataSource.transaction(async (tx) => {
      const rows: RequirementRecord[] = await tx.query(
        `SELECT * FROM ${T} WHERE id = $1::uuid AND project_id = $2 FOR UPDATE`,
        [requirementId, projectId],
      );
      const current = rows[0];
      if (!current) throw this.notFound(requirementId);
      if (current.sync_state === 'synced') {
        const readOnly = syncedReadOnlyFields(body);
        if (readOnly.length > 0) {
          throw new AppError(
            'SYNCED_READ_ONLY',
            `${readOnly.join(', ')} ${readOnly.length === 1 ? 'is' : 'are'} read-only while this requirement ` +
              'is synced from GitLab (only priority may be set in TestKase): edit the issue there, or ' +
              'disconnect the project first',
            { details: { requirementId, webUrl: current.web_url, fields: readOnly } },
          );
        }
      }
      // `priority: null` gives the priority back to the issue's labels (drops an override).
      const labelPriority = body.priority === null;
      const next = {
        title: body.title ?? current.title,
        description_markdown: body.description ?? current.description_markdown,
        priority: body.priority ?? (labelPriority ? labelsToPriority(current.labels) : current.priority),
        priority_source:
          body.priority === undefined
            ? current.priority_source
            : labelPriority
              ? ('gitlab' as const)
              : ('testkase' as const),
        status: body.status ?? current.status,
      };
      const changed: RequirementField[] = [];
      if (next.title !== current.title) changed.push('title');
      if (next.description_markdown !== current.description_markdown) changed.push('description');
      if (next.priority !== current.priority || next.priority_source !== current.priority_source)
        changed.push('priority');
      if (next.status !== current.status) changed.push('status');
      if (changed.length === 0) return toRequirementV1(current);
      const projectWebUrl = projectWebUrlFromIssueUrl(current.web_url) ?? current.instance_url;
      const html = changed.includes('description')
        ? renderGitlabMarkdown(next.description_markdown, { projectWebUrl })
        : current.description_html;
      const synced = current.sync_state === 'synced';
      // A synced requirement keeps GitLab's data as it is (an override changes only the priority);
      // a detached one records which fields TestKase now owns (a priority given back to the labels
      // is not TestKase's).
      const edits = synced
        ? current.testkase_edits
        : [...new Set([...current.testkase_edits, ...changed])].filter(
            (field) => !(labelPriority && field === 'priority'),
          );
      const [updated]: [RequirementRecord[], number] = await tx.query(
        `UPDATE ${T} SET title = $2, description_markdown = $3, description_html = $4, priority = $5, status = $6,
            deprecated_reason = CASE WHEN $6 = 'Deprecated' THEN deprecated_reason END,
            priority_source = $8, version = version + 1, changed_fields = $7::text[], updated_at = now(),
            source = CASE WHEN $9 THEN source ELSE 'testkase' END,
            priority_labels = CASE WHEN $9 THEN $10::text[] ELSE priority_labels END,
            testkase_edits = $11::text[]
          WHERE id = $1::uuid RETURNING *`,
        [
          requirementId,
          next.title,
          next.description_markdown,
          html,
          next.priority,
          next.status,
          changed,
          next.priority_source,
          synced,
          priorityLabelState(current.labels),
          edits,
        ],
      );
      const record = onlyRow(updated, 'requirement update');
      await this.outbox.add(
        tx,
        RequirementUpserted,
        { requirement: eventRequirement(record), created: false, changedFields: changed },
        { subject: record.id },
      );
      return toRequirementV1(record);
    });
  }

  private notFound(requirementId: string): AppError {
    return new AppError('NOT_FOUND', 'No such requirement in this project', { details: { requirementId } });
  }
}
