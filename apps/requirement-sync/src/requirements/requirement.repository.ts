import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { REQUIREMENT_FIELDS, type RequirementField } from '@testkase/contracts';
import type { Sql } from '@testkase/platform';

import { SCHEMA } from '../persistence/schema';
import { normaliseInstanceUrl, type ProjectContext, type RequirementUpsertRow } from './requirement-mapping';
import type { RequirementRecord } from './requirement.record';

const T = `"${SCHEMA}".requirements`;
const DEFECTS = `"${SCHEMA}".defect_issues`;
const PUSHES = `"${SCHEMA}".defect_pushes`;
const HELD = `"${SCHEMA}".held_issues`;
const CONNECTIONS = `"${SCHEMA}".connections`;

/** How long marker-bearing issues wait (see RequirementRepository.upsert). */
export interface DefectHoldSettings {
  readonly graceMs: number;
  readonly pushHoldMaxMs: number;
}

/** GITLAB_CLOCK_SKEW's default. */
export const DEFAULT_CLOCK_SKEW_MS = 2 * 60_000;

/** How the upsert orders REST snapshots against what is stored (see NEWER and DISTRUSTED). */
export interface UpsertOrder {
  /** The REST rows were read one by one after the stored state was seen (not from a listing). */
  readonly freshRest?: boolean;
  /** GITLAB_CLOCK_SKEW: a stored time further ahead of now is not trusted. */
  readonly skewMs?: number;
}

/** A row the upsert wrote, and whether it was created. */
export interface UpsertOutcome {
  readonly record: RequirementRecord;
  readonly created: boolean;
}

/**
 * A TestKase priority override (set on a synced requirement, not an edit made while detached) holds
 * while the issue's priority labels are those of the previous write; any change of them is a
 * priority set on GitLab, which wins.
 */
const OVERRIDE = `r.priority_source = 'testkase' AND NOT ('priority' = ANY(r.testkase_edits))`;
const KEEP_OVERRIDE = `(${OVERRIDE} AND r.priority_labels IS NOT DISTINCT FROM excluded.priority_labels)`;
const NEXT_PRIORITY = `CASE WHEN ${KEEP_OVERRIDE} THEN r.priority ELSE excluded.priority END`;
const NEXT_PRIORITY_SOURCE = `CASE WHEN ${KEEP_OVERRIDE} THEN 'testkase' ELSE 'gitlab' END`;
/** A TestKase edit made while detached that GitLab's value replaces: the TestKase value, else NULL. */
const replacedEdit = (field: RequirementField, column: string, next: string) =>
  `CASE WHEN '${field}' = ANY(r.testkase_edits) AND r.${column} IS DISTINCT FROM ${next} THEN r.${column} END`;
/** `write_effects` of a write that changed something (see RequirementRecord.write_effects). */
const WRITE_EFFECTS = `jsonb_strip_nulls(jsonb_build_object(
    'version', r.version + 1,
    'replaced', nullif(jsonb_strip_nulls(jsonb_build_object(
      'title', ${replacedEdit('title', 'title', 'excluded.title')},
      'description', ${replacedEdit('description', 'description_markdown', 'excluded.description_markdown')},
      'priority', ${replacedEdit('priority', 'priority', NEXT_PRIORITY)},
      'status', ${replacedEdit('status', 'status', 'excluded.status')})), '{}'::jsonb),
    'droppedPriorityOverride', CASE WHEN ${OVERRIDE} AND NOT ${KEEP_OVERRIDE} THEN r.priority END))`;

/**
 * Where a moved issue went: a write that names the same new issue but not its link (a webhook,
 * a listing) keeps the link found before.
 */
const nextMovedTo = (column: 'moved_to_iid' | 'moved_to_url') =>
  `CASE WHEN excluded.moved_to_issue_id IS NOT DISTINCT FROM r.moved_to_issue_id
     THEN coalesce(excluded.${column}, r.${column}) ELSE excluded.${column} END`;

/** Fields compared by the upsert (the webhook never overwrites GitLab's REST web_url). */
const CHANGES: ReadonlyArray<[RequirementField, string]> = [
  ['title', 'r.title IS DISTINCT FROM excluded.title'],
  [
    'description',
    '(r.description_markdown, r.description_html) IS DISTINCT FROM (excluded.description_markdown, excluded.description_html)',
  ],
  ['labels', 'r.labels IS DISTINCT FROM excluded.labels'],
  // The priority, or where it comes from.
  [
    'priority',
    `(r.priority, r.priority_source) IS DISTINCT FROM (${NEXT_PRIORITY}, ${NEXT_PRIORITY_SOURCE})`,
  ],
  // The status, or why it is Deprecated (closed, moved, and where to).
  [
    'status',
    `(r.status, r.deprecated_reason, r.moved_to_issue_id, r.moved_to_url) IS DISTINCT FROM
      (excluded.status, excluded.deprecated_reason, excluded.moved_to_issue_id, ${nextMovedTo('moved_to_url')})`,
  ],
  ['confidential', 'r.confidential IS DISTINCT FROM excluded.confidential'],
  ['webUrl', "excluded.source <> 'webhook' AND r.web_url IS DISTINCT FROM excluded.web_url"],
];
const CHANGED_FIELDS = `array_remove(ARRAY[${CHANGES.map(([field, test]) => `CASE WHEN ${test} THEN '${field}' END`).join(', ')}]::text[], NULL)`;
const ANY_CHANGE = CHANGES.map(([, test]) => `(${test})`).join(' OR ');

/**
 * Forward-only: GitLab's updated_at must be newer. A second-precise timestamp (`… UTC`, the issue
 * hook's ISO form) is newer only in a later second than the stored one: within the same second the
 * order is unknown and the caller asks GitLab. So is a REST snapshot from a listing ($7 false: read
 * some time before it is written) in the same second as a stored second-precise time, with other
 * content: the webhook may carry a later change of that second (docs/GITLAB.md, "Issue and work
 * item events"). A REST snapshot may also refresh a row marked
 * `needs_refresh` (re-attached after a disconnect) at an equal timestamp, never an older one.
 */
const NEWER = `CASE WHEN excluded.gitlab_updated_at_exact
    THEN excluded.gitlab_updated_at > r.gitlab_updated_at AND ($7::boolean OR excluded.source <> 'rest'
      OR r.gitlab_updated_at_exact OR date_trunc('second', excluded.gitlab_updated_at) > r.gitlab_updated_at
      OR NOT (${ANY_CHANGE}))
    ELSE excluded.gitlab_updated_at > date_trunc('second', r.gitlab_updated_at) END`;
/**
 * A stored time beyond now plus the tolerated skew ($8 seconds: a GitLab clock that jumped ahead)
 * orders nothing: a fresh read of the issue ($7, the caller fetched it after seeing the stored
 * state) replaces it, whatever its time.
 */
const DISTRUSTED = `$7::boolean AND excluded.source = 'rest'
    AND r.gitlab_updated_at > now() + make_interval(secs => $8::float8)`;
const REFRESH = `r.needs_refresh AND excluded.source = 'rest' AND CASE WHEN excluded.gitlab_updated_at_exact
    THEN excluded.gitlab_updated_at >= r.gitlab_updated_at
    ELSE excluded.gitlab_updated_at >= date_trunc('second', r.gitlab_updated_at) END`;

const UPSERT = `
  INSERT INTO ${T} AS r (
    project_id, connection_id, instance_url, gitlab_project_id, iid, issue_id, title, description_markdown,
    description_html, labels, priority, status, deprecated_reason, confidential, web_url, gitlab_created_at,
    gitlab_updated_at, gitlab_updated_at_exact, sync_state, source, needs_refresh, version, changed_fields,
    priority_labels, moved_to_issue_id, moved_to_iid, moved_to_url)
  SELECT $1, $2::uuid, $3, $4::bigint, i.iid, i.issue_id, i.title, i.description_markdown, i.description_html,
    i.labels, i.priority, i.status,
    CASE WHEN i.status = 'Deprecated' THEN CASE WHEN i.moved_to_issue_id IS NULL THEN 'closed' ELSE 'moved' END END,
    i.confidential,
    i.web_url, i.gitlab_created_at, i.gitlab_updated_at, i.exact, 'synced', i.source, false, 1, $6::text[],
    i.priority_labels, i.moved_to_issue_id, i.moved_to_iid, i.moved_to_url
  FROM jsonb_to_recordset($5::jsonb) AS i(
    iid integer, issue_id bigint, title text, description_markdown text, description_html text, labels text[],
    priority text, status text, confidential boolean, web_url text, gitlab_created_at timestamptz,
    gitlab_updated_at timestamptz, exact boolean, source text, priority_labels text[],
    moved_to_issue_id bigint, moved_to_iid integer, moved_to_url text)
  WHERE NOT EXISTS (
    SELECT 1 FROM ${DEFECTS} d
     WHERE d.project_id = $1 AND d.instance_url = $3 AND d.gitlab_project_id = $4 AND d.iid = i.iid)
    AND NOT EXISTS (SELECT 1 FROM ${HELD} h WHERE h.connection_id = $2::uuid AND h.iid = i.iid)
  ON CONFLICT ON CONSTRAINT requirements_issue_key DO UPDATE SET
    connection_id = excluded.connection_id,
    issue_id = coalesce(excluded.issue_id, r.issue_id),
    title = excluded.title,
    description_markdown = excluded.description_markdown,
    description_html = excluded.description_html,
    labels = excluded.labels,
    priority = ${NEXT_PRIORITY},
    priority_source = ${NEXT_PRIORITY_SOURCE},
    priority_labels = excluded.priority_labels,
    testkase_edits = '{}',
    write_effects = CASE WHEN ${ANY_CHANGE} THEN ${WRITE_EFFECTS} END,
    status = excluded.status,
    deprecated_reason = excluded.deprecated_reason,
    moved_to_issue_id = excluded.moved_to_issue_id,
    moved_to_iid = ${nextMovedTo('moved_to_iid')},
    moved_to_url = ${nextMovedTo('moved_to_url')},
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
  WHERE r.sync_state = 'synced' AND r.connection_id = excluded.connection_id
    AND ((${NEWER}) OR (${REFRESH}) OR (${DISTRUSTED}))
    -- A webhook processed late never revives the requirement of an issue found deleted.
    AND (r.deprecated_reason IS DISTINCT FROM 'deleted' OR excluded.source <> 'webhook')
  RETURNING r.*, (r.xmax = 0) AS created`;

const ALL_FIELDS: readonly RequirementField[] = REQUIREMENT_FIELDS;

/** SQL of requirement_sync.requirements and .defect_issues. Every method runs in the caller's transaction. */
@Injectable()
export class RequirementRepository {
  /**
   * Upserts mapped issues of one project in one statement (the forward-only rule above). An issue
   * recorded as a defect (one defect-sync created) is never a requirement, even once its marker is
   * gone. An issue that carries a marker but is not a requirement yet is **held** — recorded in
   * `held_issues`, not written — while that defect's push is in flight or for `graceMs` after GitLab
   * created it; after that it is a requirement like any other (a copy of a pushed issue is not the
   * defect). Returns the rows written (created, changed, or moved forward unchanged) and the iids held.
   */
  async upsert(
    sql: Sql,
    context: ProjectContext,
    rows: readonly RequirementUpsertRow[],
    hold: DefectHoldSettings,
    order: UpsertOrder = {},
  ): Promise<{ outcomes: UpsertOutcome[]; held: Set<number> }> {
    if (rows.length === 0) return { outcomes: [], held: new Set() };
    const held = rows.some((row) => row.defect_id !== null)
      ? await this.holdMarked(sql, context, rows, hold)
      : new Set<number>();
    const admitted = held.size > 0 ? rows.filter((row) => !held.has(row.iid)) : rows;
    const records =
      admitted.length === 0
        ? []
        : await sql.rows<RequirementRecord & { created: boolean }>(
            UPSERT,
            [
              context.projectId,
              context.connectionId,
              context.instanceUrl,
              context.gitlabProjectId,
              JSON.stringify(admitted),
              ALL_FIELDS,
              order.freshRest ?? false,
              (order.skewMs ?? DEFAULT_CLOCK_SKEW_MS) / 1000,
            ],
            'requirement_sync_upsert_v4',
          );
    const outcomes = records.map(({ created, ...record }) => ({
      record: created ? { ...record, changed_fields: [...ALL_FIELDS] } : record,
      created,
    }));
    return { outcomes, held };
  }

  /**
   * Decides the marker-bearing rows that are not requirements or defects yet: those to hold are
   * recorded (or kept) in `held_issues` and returned; for the others a hold that has ended is
   * lifted, so the upsert that follows imports them. One statement.
   */
  private async holdMarked(
    sql: Sql,
    context: ProjectContext,
    rows: readonly RequirementUpsertRow[],
    hold: DefectHoldSettings,
  ): Promise<Set<number>> {
    const marked = rows
      .filter((row) => row.defect_id !== null)
      .map((row) => ({ iid: row.iid, defect_id: row.defect_id, created_at: row.gitlab_created_at }));
    const [result] = await sql.rows<{ held: number[] }>(
      `WITH candidate AS (
         SELECT c.iid, c.defect_id, coalesce(h.issue_created_at, c.created_at, now()) AS created_at,
                EXISTS (SELECT 1 FROM ${PUSHES} p
                         WHERE p.project_id = $1 AND p.defect_id = c.defect_id AND p.finished_at IS NULL
                           AND p.started_at > now() - make_interval(secs => $7::float8)) AS in_flight
           FROM jsonb_to_recordset($4::jsonb) AS c(iid integer, defect_id text, created_at timestamptz)
           LEFT JOIN ${HELD} h ON h.connection_id = $5::uuid AND h.iid = c.iid
          WHERE NOT EXISTS (SELECT 1 FROM ${T} r WHERE r.project_id = $1 AND r.instance_url = $2
                              AND r.gitlab_project_id = $3 AND r.iid = c.iid)
            AND NOT EXISTS (SELECT 1 FROM ${DEFECTS} d WHERE d.project_id = $1 AND d.instance_url = $2
                              AND d.gitlab_project_id = $3 AND d.iid = c.iid)
       ), decided AS (
         SELECT *, in_flight OR created_at > now() - make_interval(secs => $6::float8) AS waits FROM candidate
       ), kept AS (
         INSERT INTO ${HELD} AS h (connection_id, iid, defect_id, issue_created_at, recheck_at)
         SELECT $5::uuid, iid, defect_id, created_at,
                -- In flight: look again now and then (its end also asks for a look at once).
                greatest(created_at + make_interval(secs => $6::float8),
                         now() + CASE WHEN in_flight THEN interval '15 seconds' ELSE interval '1 second' END)
           FROM decided WHERE waits
         ON CONFLICT (connection_id, iid) DO UPDATE SET defect_id = excluded.defect_id, recheck_at = excluded.recheck_at
         RETURNING iid
       ), lifted AS (
         DELETE FROM ${HELD} h USING decided
          WHERE h.connection_id = $5::uuid AND h.iid = decided.iid AND NOT decided.waits
       )
       SELECT ARRAY(SELECT iid FROM kept) AS held`,
      [
        context.projectId,
        context.instanceUrl,
        context.gitlabProjectId,
        JSON.stringify(marked),
        context.connectionId,
        hold.graceMs / 1000,
        hold.pushHoldMaxMs / 1000,
      ],
    );
    return new Set(result?.held ?? []);
  }

  /**
   * Held issues of a connection due for a look whose hold has ended (their push finished, or never
   * started, and the grace period is over): the hold is lifted and their iids returned, to be
   * fetched again and upserted like any issue. Those still waiting are looked at again later.
   */
  async releaseHeld(
    tx: EntityManager,
    connectionId: string,
    hold: DefectHoldSettings,
    limit: number,
  ): Promise<{ released: number[]; due: number }> {
    const rows: Array<{ iid: number; released: boolean }> = await tx.query(
      `WITH due AS (
         SELECT h.iid, h.defect_id, h.issue_created_at,
                EXISTS (SELECT 1 FROM ${PUSHES} p, ${CONNECTIONS} c
                         WHERE c.connection_id = h.connection_id AND p.project_id = c.project_id
                           AND p.defect_id = h.defect_id AND p.finished_at IS NULL
                           AND p.started_at > now() - make_interval(secs => $4::float8)) AS in_flight
           FROM ${HELD} h
          WHERE h.connection_id = $1::uuid AND h.recheck_at <= now()
          ORDER BY h.recheck_at LIMIT $2 FOR UPDATE
       ), released AS (
         DELETE FROM ${HELD} h USING due
          WHERE h.connection_id = $1::uuid AND h.iid = due.iid
            AND NOT due.in_flight AND due.issue_created_at <= now() - make_interval(secs => $3::float8)
         RETURNING h.iid
       ), waiting AS (
         UPDATE ${HELD} h SET recheck_at = greatest(due.issue_created_at + make_interval(secs => $3::float8),
                                                   now() + interval '15 seconds')
           FROM due
          WHERE h.connection_id = $1::uuid AND h.iid = due.iid
            AND (due.in_flight OR due.issue_created_at > now() - make_interval(secs => $3::float8))
         RETURNING h.iid
       )
       SELECT iid, true AS released FROM released UNION ALL SELECT iid, false FROM waiting`,
      [connectionId, limit, hold.graceMs / 1000, hold.pushHoldMaxMs / 1000],
    );
    return { released: rows.filter((row) => row.released).map((row) => row.iid), due: rows.length };
  }

  /** Which of these issues are held back (see upsert). */
  async heldIids(sql: Sql, connectionId: string, iids: readonly number[]): Promise<Set<number>> {
    const rows = await sql.rows<{ iid: number }>(
      `SELECT iid FROM ${HELD} WHERE connection_id = $1::uuid AND iid = ANY($2::integer[])`,
      [connectionId, iids],
    );
    return new Set(rows.map((row) => row.iid));
  }

  /**
   * defect-sync is pushing a defect: issues carrying its marker stay out while the push is in
   * flight. A push already seen as finished (events may come out of order) stays finished.
   */
  async pushStarted(
    tx: EntityManager,
    event: { projectId: string; defectId: string; connectionId: string; startedAt: string },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO ${PUSHES} AS p (project_id, defect_id, connection_id, started_at)
       VALUES ($1, $2, $3::uuid, $4)
       ON CONFLICT (project_id, defect_id) DO UPDATE SET
         connection_id = excluded.connection_id, started_at = excluded.started_at,
         finished_at = CASE WHEN p.finished_at > excluded.started_at THEN p.finished_at END,
         outcome = CASE WHEN p.finished_at > excluded.started_at THEN p.outcome END`,
      [event.projectId, event.defectId, event.connectionId, event.startedAt],
    );
  }

  /**
   * defect-sync's push ended. `linked`: that issue — by (instance, project, iid) — is a defect for
   * good and is never imported; held issues with the marker are looked at again at once.
   * Returns whether the linked issue had already been imported as a requirement.
   */
  async pushFinished(
    tx: EntityManager,
    event: {
      projectId: string;
      defectId: string;
      connectionId: string;
      outcome: 'linked' | 'failed';
      instanceUrl: string;
      gitlabProjectId: number;
      iid: number | null;
      finishedAt: string;
    },
  ): Promise<{ alreadyRequirement: boolean }> {
    await tx.query(
      `INSERT INTO ${PUSHES} AS p (project_id, defect_id, connection_id, started_at, finished_at, outcome)
       VALUES ($1, $2, $3::uuid, $4, $4, $5)
       ON CONFLICT (project_id, defect_id) DO UPDATE SET
         finished_at = CASE WHEN p.started_at <= excluded.finished_at THEN excluded.finished_at ELSE p.finished_at END,
         outcome = CASE WHEN p.started_at <= excluded.finished_at THEN excluded.outcome ELSE p.outcome END`,
      [event.projectId, event.defectId, event.connectionId, event.finishedAt, event.outcome],
    );
    await tx.query(
      `UPDATE ${HELD} SET recheck_at = now() WHERE connection_id = $1::uuid AND defect_id = $2`,
      [event.connectionId, event.defectId],
    );
    if (event.outcome !== 'linked' || event.iid === null) return { alreadyRequirement: false };
    const instanceUrl = normaliseInstanceUrl(event.instanceUrl);
    await tx.query(
      `INSERT INTO ${DEFECTS} (project_id, instance_url, gitlab_project_id, iid, defect_id)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [event.projectId, instanceUrl, event.gitlabProjectId, event.iid, event.defectId],
    );
    await tx.query(`DELETE FROM ${HELD} WHERE connection_id = $1::uuid AND iid = $2`, [
      event.connectionId,
      event.iid,
    ]);
    const existing: unknown[] = await tx.query(
      `SELECT 1 FROM ${T} WHERE project_id = $1 AND instance_url = $2 AND gitlab_project_id = $3 AND iid = $4`,
      [event.projectId, instanceUrl, event.gitlabProjectId, event.iid],
    );
    return { alreadyRequirement: existing.length > 0 };
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
   * and not already known deleted, moved or retyped: candidates for a check by iid.
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
          AND coalesce(deprecated_reason, 'closed') = 'closed'
          AND NOT (iid = ANY($2::integer[]))
        ORDER BY iid`,
      [connectionId, seenIids, before],
    );
    return rows.map((row) => row.iid);
  }

  /**
   * Marks the requirements of issues GitLab no longer has (`deleted`) or has as another work item
   * type (`retyped`, found by a sweep) Deprecated; `status` counts as changed even for one that was
   * already Deprecated (closed): its reason changed. Returns the rows changed.
   */
  async deprecateDeleted(
    tx: EntityManager,
    connectionId: string,
    iids: readonly number[],
    reason: 'deleted' | 'retyped' = 'deleted',
  ): Promise<RequirementRecord[]> {
    const [rows]: [RequirementRecord[], number] = await tx.query(
      `UPDATE ${T} r SET
          status = 'Deprecated',
          deprecated_reason = $3,
          version = r.version + 1,
          changed_fields = '{status}'::text[],
          updated_at = now()
        WHERE connection_id = $1::uuid AND sync_state = 'synced' AND iid = ANY($2::integer[])
          AND deprecated_reason IS DISTINCT FROM $3
        RETURNING r.*`,
      [connectionId, iids, reason],
    );
    return rows;
  }

  /**
   * Issues turned into another work item type, from their webhooks: their requirements become
   * Deprecated (`retyped`) at the event's time, forward only as the upsert (a later event of the
   * issue, turned back into an issue, makes it Active again); `fresh`: GitLab said so when asked,
   * which no stored time outweighs. Returns the rows changed.
   */
  async deprecateRetyped(
    sql: Sql,
    context: ProjectContext,
    items: ReadonlyArray<{ iid: number; updatedAt: Date; exact: boolean; fresh?: boolean }>,
  ): Promise<RequirementRecord[]> {
    if (items.length === 0) return [];
    return sql.rows<RequirementRecord>(
      `UPDATE ${T} r SET
          status = 'Deprecated',
          deprecated_reason = 'retyped',
          moved_to_issue_id = NULL, moved_to_iid = NULL, moved_to_url = NULL,
          gitlab_updated_at = i.updated_at,
          gitlab_updated_at_exact = i.exact,
          source = 'webhook',
          version = r.version + CASE WHEN r.deprecated_reason IS DISTINCT FROM 'retyped' THEN 1 ELSE 0 END,
          changed_fields = CASE WHEN r.deprecated_reason IS DISTINCT FROM 'retyped'
            THEN '{status}'::text[] ELSE '{}'::text[] END,
          updated_at = CASE WHEN r.deprecated_reason IS DISTINCT FROM 'retyped' THEN now() ELSE r.updated_at END
        FROM jsonb_to_recordset($5::jsonb) AS i(iid integer, updated_at timestamptz, exact boolean, fresh boolean)
        WHERE r.project_id = $1 AND r.instance_url = $3 AND r.gitlab_project_id = $4 AND r.iid = i.iid
          AND r.connection_id = $2::uuid AND r.sync_state = 'synced'
          AND CASE WHEN coalesce(i.fresh, false) THEN true
                   WHEN i.exact THEN i.updated_at > r.gitlab_updated_at
                   ELSE i.updated_at > date_trunc('second', r.gitlab_updated_at) END
        RETURNING r.*`,
      [
        context.projectId,
        context.connectionId,
        context.instanceUrl,
        context.gitlabProjectId,
        JSON.stringify(items.map((item) => ({ ...item, updated_at: item.updatedAt.toISOString() }))),
      ],
    );
  }

  /**
   * Synced requirements of the connection whose issue may still be deleted (not already known
   * deleted, moved or retyped), created before `before`: what the deletion check asks GitLab about.
   */
  async checkableIids(tx: EntityManager, connectionId: string, before: Date): Promise<number[]> {
    const rows: Array<{ iid: number }> = await tx.query(
      `SELECT iid FROM ${T}
        WHERE connection_id = $1::uuid AND sync_state = 'synced' AND created_at < $2
          AND coalesce(deprecated_reason, 'closed') = 'closed'
        ORDER BY iid`,
      [connectionId, before],
    );
    return rows.map((row) => row.iid);
  }

  /**
   * What an order decision needs of the stored requirements of these issues, for those whose
   * stored time is second-precise or beyond now plus `skewMs` (the others order by time alone).
   */
  async orderCandidates(
    sql: Sql,
    context: ProjectContext,
    iids: readonly number[],
    skewMs: number,
  ): Promise<
    Array<
      Pick<
        RequirementRecord,
        | 'iid'
        | 'title'
        | 'description_markdown'
        | 'status'
        | 'confidential'
        | 'labels'
        | 'moved_to_issue_id'
        | 'gitlab_updated_at'
        | 'gitlab_updated_at_exact'
      > & { distrusted: boolean }
    >
  > {
    if (iids.length === 0) return [];
    return sql.rows(
      `SELECT iid, title, description_markdown, status, confidential, labels, moved_to_issue_id,
              gitlab_updated_at, gitlab_updated_at_exact,
              gitlab_updated_at > now() + make_interval(secs => $6::float8) AS distrusted
         FROM ${T}
        WHERE project_id = $1 AND instance_url = $2 AND gitlab_project_id = $3 AND iid = ANY($4::integer[])
          AND connection_id = $5::uuid AND sync_state = 'synced'
          AND (NOT gitlab_updated_at_exact OR gitlab_updated_at > now() + make_interval(secs => $6::float8))`,
      [
        context.projectId,
        context.instanceUrl,
        context.gitlabProjectId,
        iids,
        context.connectionId,
        skewMs / 1000,
      ],
    );
  }

  /** Of these issues, those whose requirement already knows where its moved issue went: iid → moved_to_issue_id. */
  async knownMoves(sql: Sql, context: ProjectContext, iids: readonly number[]): Promise<Map<number, number>> {
    if (iids.length === 0) return new Map();
    const rows = await sql.rows<{ iid: number; moved_to_issue_id: string }>(
      `SELECT iid, moved_to_issue_id FROM ${T}
        WHERE project_id = $1 AND instance_url = $2 AND gitlab_project_id = $3 AND iid = ANY($4::integer[])
          AND moved_to_issue_id IS NOT NULL AND moved_to_url IS NOT NULL`,
      [context.projectId, context.instanceUrl, context.gitlabProjectId, iids],
    );
    return new Map(rows.map((row) => [row.iid, Number(row.moved_to_issue_id)]));
  }
}
