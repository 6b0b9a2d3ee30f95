import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { REQUIREMENT_FIELDS, type RequirementField } from '@testkase/contracts';
import type { Sql } from '@testkase/platform';

import { SCHEMA } from '../persistence/schema';
import type { ProjectContext, RequirementUpsertRow } from './requirement-mapping';
import type { RequirementRecord } from './requirement.record';

const T = `"${SCHEMA}".requirements`;
const DEFECTS = `"${SCHEMA}".defect_issues`;

/** A row the upsert wrote, and whether it was created. */
export interface UpsertOutcome {
  readonly record: RequirementRecord;
  readonly created: boolean;
}

/** Fields compared by the upsert (the webhook never overwrites GitLab's REST web_url). */
const CHANGES: ReadonlyArray<[RequirementField, string]> = [
  ['title', 'r.title IS DISTINCT FROM excluded.title'],
  [
    'description',
    '(r.description_markdown, r.description_html) IS DISTINCT FROM (excluded.description_markdown, excluded.description_html)',
  ],
  ['labels', 'r.labels IS DISTINCT FROM excluded.labels'],
  ['priority', 'r.priority IS DISTINCT FROM excluded.priority'],
  ['status', 'r.status IS DISTINCT FROM excluded.status'],
  ['confidential', 'r.confidential IS DISTINCT FROM excluded.confidential'],
  ['webUrl', "excluded.source <> 'webhook' AND r.web_url IS DISTINCT FROM excluded.web_url"],
];
const CHANGED_FIELDS = `array_remove(ARRAY[${CHANGES.map(([field, test]) => `CASE WHEN ${test} THEN '${field}' END`).join(', ')}]::text[], NULL)`;
const ANY_CHANGE = CHANGES.map(([, test]) => `(${test})`).join(' OR ');

/**
 * Forward-only: GitLab's updated_at must be newer. A second-precise timestamp (`… UTC`, the issue
 * hook's ISO form) is newer only in a later second than the stored one: within the same second the
 * order is unknown and the caller asks GitLab. A REST snapshot may also refresh a row marked
 * `needs_refresh` (re-attached after a disconnect) at an equal timestamp, never an older one.
 */
const NEWER = `CASE WHEN excluded.gitlab_updated_at_exact
    THEN excluded.gitlab_updated_at > r.gitlab_updated_at
    ELSE excluded.gitlab_updated_at > date_trunc('second', r.gitlab_updated_at) END`;
const REFRESH = `r.needs_refresh AND excluded.source = 'rest' AND CASE WHEN excluded.gitlab_updated_at_exact
    THEN excluded.gitlab_updated_at >= r.gitlab_updated_at
    ELSE excluded.gitlab_updated_at >= date_trunc('second', r.gitlab_updated_at) END`;

const UPSERT = `
  INSERT INTO ${T} AS r (
    project_id, connection_id, instance_url, gitlab_project_id, iid, issue_id, title, description_markdown,
    description_html, labels, priority, status, deprecated_reason, confidential, web_url, gitlab_created_at,
    gitlab_updated_at, gitlab_updated_at_exact, sync_state, source, needs_refresh, version, changed_fields)
  SELECT $1, $2::uuid, $3, $4::bigint, i.iid, i.issue_id, i.title, i.description_markdown, i.description_html,
    i.labels, i.priority, i.status, CASE WHEN i.status = 'Deprecated' THEN 'closed' END, i.confidential,
    i.web_url, i.gitlab_created_at, i.gitlab_updated_at, i.exact, 'synced', i.source, false, 1, $6::text[]
  FROM jsonb_to_recordset($5::jsonb) AS i(
    iid integer, issue_id bigint, title text, description_markdown text, description_html text, labels text[],
    priority text, status text, confidential boolean, web_url text, gitlab_created_at timestamptz,
    gitlab_updated_at timestamptz, exact boolean, source text)
  WHERE NOT EXISTS (
    SELECT 1 FROM ${DEFECTS} d
     WHERE d.project_id = $1 AND d.instance_url = $3 AND d.gitlab_project_id = $4 AND d.iid = i.iid)
  ON CONFLICT ON CONSTRAINT requirements_issue_key DO UPDATE SET
    connection_id = excluded.connection_id,
    issue_id = coalesce(excluded.issue_id, r.issue_id),
    title = excluded.title,
    description_markdown = excluded.description_markdown,
    description_html = excluded.description_html,
    labels = excluded.labels,
    priority = excluded.priority,
    status = excluded.status,
    deprecated_reason = excluded.deprecated_reason,
    confidential = excluded.confidential,
    web_url = CASE WHEN excluded.source = 'webhook' THEN r.web_url ELSE excluded.web_url END,
    gitlab_created_at = coalesce(excluded.gitlab_created_at, r.gitlab_created_at),
    gitlab_updated_at = excluded.gitlab_updated_at,
    gitlab_updated_at_exact = excluded.gitlab_updated_at_exact,
    source = excluded.source,
    needs_refresh = false,
    changed_fields = ${CHANGED_FIELDS},
    version = r.version + CASE WHEN ${ANY_CHANGE} THEN 1 ELSE 0 END,
    updated_at = CASE WHEN ${ANY_CHANGE} THEN now() ELSE r.updated_at END
  WHERE r.sync_state = 'synced' AND r.connection_id = excluded.connection_id AND ((${NEWER}) OR (${REFRESH}))
  RETURNING r.*, (r.xmax = 0) AS created`;

const ALL_FIELDS: readonly RequirementField[] = REQUIREMENT_FIELDS;

/** SQL of requirement_sync.requirements and .defect_issues. Every method runs in the caller's transaction. */
@Injectable()
export class RequirementRepository {
  /**
   * Upserts mapped issues of one project in one statement (the forward-only rule above). Issues
   * carrying a defect marker are recorded as defects first, unless they are already requirements;
   * a recorded defect never becomes a requirement, even once its marker is gone.
   * Returns only the rows written (created, or changed, or moved forward without a change).
   */
  async upsert(
    sql: Sql,
    context: ProjectContext,
    rows: readonly RequirementUpsertRow[],
  ): Promise<UpsertOutcome[]> {
    if (rows.length === 0) return [];
    const marked = rows.filter((row) => row.defect_id !== null);
    if (marked.length > 0) {
      await sql.rows(
        `INSERT INTO ${DEFECTS} (project_id, instance_url, gitlab_project_id, iid, defect_id)
         SELECT $1, $2, $3::bigint, d.iid, d.defect_id
           FROM jsonb_to_recordset($4::jsonb) AS d(iid integer, defect_id text)
          WHERE NOT EXISTS (
            SELECT 1 FROM ${T} r
             WHERE r.project_id = $1 AND r.instance_url = $2 AND r.gitlab_project_id = $3 AND r.iid = d.iid)
         ON CONFLICT DO NOTHING`,
        [
          context.projectId,
          context.instanceUrl,
          context.gitlabProjectId,
          JSON.stringify(marked.map((row) => ({ iid: row.iid, defect_id: row.defect_id }))),
        ],
      );
    }
    const records = await sql.rows<RequirementRecord & { created: boolean }>(
      UPSERT,
      [
        context.projectId,
        context.connectionId,
        context.instanceUrl,
        context.gitlabProjectId,
        JSON.stringify(rows),
        ALL_FIELDS,
      ],
      'requirement_sync_upsert_v1',
    );
    return records.map(({ created, ...record }) => ({
      record: created ? { ...record, changed_fields: [...ALL_FIELDS] } : record,
      created,
    }));
  }

  /** The requirements of these issues (those that exist). */
  async findByIssues(
    sql: Sql,
    context: ProjectContext,
    iids: readonly number[],
  ): Promise<RequirementRecord[]> {
    return sql.rows(
      `SELECT * FROM ${T}
        WHERE project_id = $1 AND instance_url = $2 AND gitlab_project_id = $3 AND iid = ANY($4::integer[])`,
      [context.projectId, context.instanceUrl, context.gitlabProjectId, iids],
    );
  }

  /** Which of these issues are recorded as defects. */
  async defectIids(sql: Sql, context: ProjectContext, iids: readonly number[]): Promise<Set<number>> {
    const rows = await sql.rows<{ iid: number }>(
      `SELECT iid FROM ${DEFECTS}
        WHERE project_id = $1 AND instance_url = $2 AND gitlab_project_id = $3 AND iid = ANY($4::integer[])`,
      [context.projectId, context.instanceUrl, context.gitlabProjectId, iids],
    );
    return new Set(rows.map((row) => row.iid));
  }

  /**
   * Detaches up to `limit` synced requirements: of a connection, or of a TestKase project except
   * those of one GitLab project. Returns the rows changed.
   */
  async detachBatch(
    tx: EntityManager,
    where: {
      connectionId?: string;
      projectId?: string;
      exceptGitlabProject?: { instanceUrl: string; gitlabProjectId: number };
    },
    limit: number,
  ): Promise<RequirementRecord[]> {
    const conditions = [`sync_state = 'synced'`];
    const params: unknown[] = [];
    if (where.connectionId !== undefined) {
      params.push(where.connectionId);
      conditions.push(`connection_id = $${params.length}::uuid`);
    }
    if (where.projectId !== undefined) {
      params.push(where.projectId);
      conditions.push(`project_id = $${params.length}`);
    }
    if (where.exceptGitlabProject) {
      params.push(where.exceptGitlabProject.instanceUrl, where.exceptGitlabProject.gitlabProjectId);
      conditions.push(
        `NOT (instance_url = $${params.length - 1} AND gitlab_project_id = $${params.length}::bigint)`,
      );
    }
    params.push(limit);
    const [rows]: [RequirementRecord[], number] = await tx.query(
      `UPDATE ${T} SET sync_state = 'detached', version = version + 1, changed_fields = '{syncState}', updated_at = now()
        WHERE id IN (SELECT id FROM ${T} WHERE ${conditions.join(' AND ')} ORDER BY id LIMIT $${params.length} FOR UPDATE)
        RETURNING *`,
      params,
    );
    return rows;
  }

  /**
   * Attaches up to `limit` requirements of this GitLab project that are detached or belong to
   * another connection to `context.connectionId` (a reconnect may keep the connection id), marked
   * for a refresh from GitLab. Returns them, with
   * `changed_fields` = ['syncState'] for those that were detached.
   */
  async attachBatch(tx: EntityManager, context: ProjectContext, limit: number): Promise<RequirementRecord[]> {
    const [rows]: [RequirementRecord[], number] = await tx.query(
      `UPDATE ${T} r SET
          connection_id = $4::uuid,
          needs_refresh = true,
          sync_state = 'synced',
          version = r.version + CASE WHEN r.sync_state = 'detached' THEN 1 ELSE 0 END,
          changed_fields = CASE WHEN r.sync_state = 'detached' THEN '{syncState}'::text[] ELSE '{}'::text[] END,
          updated_at = CASE WHEN r.sync_state = 'detached' THEN now() ELSE r.updated_at END
        WHERE id IN (
          SELECT id FROM ${T}
           WHERE project_id = $1 AND instance_url = $2 AND gitlab_project_id = $3::bigint
             AND (connection_id IS DISTINCT FROM $4::uuid OR sync_state = 'detached')
           ORDER BY id LIMIT $5 FOR UPDATE)
        RETURNING r.*`,
      [context.projectId, context.instanceUrl, context.gitlabProjectId, context.connectionId, limit],
    );
    return rows;
  }

  /**
   * Synced requirements of the connection whose iid is not in `seenIids`, created before `before`
   * and not already marked deleted: candidates for "deleted or moved".
   */
  async missingIids(
    tx: EntityManager,
    connectionId: string,
    seenIids: readonly number[],
    before: Date,
  ): Promise<number[]> {
    const rows: Array<{ iid: number }> = await tx.query(
      `SELECT iid FROM ${T}
        WHERE connection_id = $1::uuid AND sync_state = 'synced' AND created_at < $3
          AND deprecated_reason IS DISTINCT FROM 'deleted_or_moved'
          AND NOT (iid = ANY($2::integer[]))
        ORDER BY iid`,
      [connectionId, seenIids, before],
    );
    return rows.map((row) => row.iid);
  }

  /** Marks the requirements of deleted or moved issues Deprecated. Returns the rows changed. */
  async deprecateDeleted(
    tx: EntityManager,
    connectionId: string,
    iids: readonly number[],
  ): Promise<RequirementRecord[]> {
    const [rows]: [RequirementRecord[], number] = await tx.query(
      `UPDATE ${T} r SET
          status = 'Deprecated',
          deprecated_reason = 'deleted_or_moved',
          version = r.version + 1,
          changed_fields = CASE WHEN r.status = 'Deprecated' THEN '{}'::text[] ELSE '{status}'::text[] END,
          updated_at = now()
        WHERE connection_id = $1::uuid AND sync_state = 'synced' AND iid = ANY($2::integer[])
          AND deprecated_reason IS DISTINCT FROM 'deleted_or_moved'
        RETURNING r.*`,
      [connectionId, iids],
    );
    return rows;
  }
}
