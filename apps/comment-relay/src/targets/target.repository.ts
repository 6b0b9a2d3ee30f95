import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { ProjectContext } from '@testkase/consumer-kit';
import type { DefectV1, RequirementV1 } from '@testkase/contracts';

import { LOCK_NAMESPACE } from '../connections/sweep-state.repository';
import { SCHEMA } from '../persistence/schema';
import type { DefectTarget, RequirementTarget } from './target.records';

const R = `"${SCHEMA}".requirements`;
const D = `"${SCHEMA}".defects`;

/**
 * comment-relay's own projections of the GitLab issues it comments on: synced requirements and
 * pushed defects, from the events of requirement-sync and defect-sync (never their schemas). Both
 * move forward only, by the version their service gives them. Every method runs in the caller's
 * transaction (or on the data source's manager, for a read).
 */
@Injectable()
export class TargetRepository {
  /**
   * Serialises, until the transaction ends, everything that decides whether a requirement's links
   * or a defect's comments wait for their target: the request that records them (and reads the
   * target) and the event that makes the target known (and wakes what waits). Without it a link
   * recorded while the requirement's first event commits would see no target, stay unseen by the
   * event, and wait for the next sweep.
   */
  async lockRequirement(tx: EntityManager, requirementId: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      LOCK_NAMESPACE.target,
      `requirement:${requirementId}`,
    ]);
  }

  /** {@link lockRequirement}, for a defect's comments. */
  async lockDefect(tx: EntityManager, projectId: string, defectId: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      LOCK_NAMESPACE.target,
      `defect:${projectId}:${defectId}`,
    ]);
  }

  /** Applies a requirement's event; null when it was stale (an older or equal version). */
  async upsertRequirement(tx: EntityManager, requirement: RequirementV1): Promise<RequirementTarget | null> {
    const rows: RequirementTarget[] = await tx.query(
      `INSERT INTO ${R} AS r (requirement_id, project_id, connection_id, instance_url, gitlab_project_id, iid,
                             confidential, sync_state, version)
       VALUES ($1::uuid, $2, $3::uuid, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (requirement_id) DO UPDATE SET
         connection_id = excluded.connection_id, instance_url = excluded.instance_url,
         gitlab_project_id = excluded.gitlab_project_id, iid = excluded.iid,
         confidential = excluded.confidential, sync_state = excluded.sync_state,
         version = excluded.version, updated_at = now()
       WHERE r.version < excluded.version AND r.project_id = excluded.project_id
       RETURNING requirement_id, project_id, connection_id, instance_url, gitlab_project_id, iid,
                 confidential, sync_state, version`,
      [
        requirement.id,
        requirement.projectId,
        requirement.connectionId,
        requirement.external.instanceUrl,
        requirement.external.gitlabProjectId,
        requirement.external.iid,
        requirement.confidential,
        requirement.syncState,
        requirement.version,
      ],
    );
    return rows[0] ?? null;
  }

  /** Applies a pushed defect's event (one that names its issue); null when stale. */
  async upsertDefect(tx: EntityManager, defect: DefectV1): Promise<DefectTarget | null> {
    if (!defect.issue) return null;
    const rows: DefectTarget[] = await tx.query(
      `INSERT INTO ${D} AS d (project_id, defect_id, connection_id, instance_url, gitlab_project_id, iid, version)
       VALUES ($1, $2, $3::uuid, $4, $5, $6, $7)
       ON CONFLICT (project_id, defect_id) DO UPDATE SET
         connection_id = coalesce(excluded.connection_id, d.connection_id), instance_url = excluded.instance_url,
         gitlab_project_id = excluded.gitlab_project_id, iid = excluded.iid,
         version = excluded.version, updated_at = now()
       WHERE d.version < excluded.version
       RETURNING *`,
      [
        defect.projectId,
        defect.defectId,
        defect.connectionId,
        defect.issue.instanceUrl,
        defect.issue.gitlabProjectId,
        defect.issue.iid,
        defect.version,
      ],
    );
    return rows[0] ?? null;
  }

  async findRequirement(tx: EntityManager, requirementId: string): Promise<RequirementTarget | null> {
    const rows: RequirementTarget[] = await tx.query(`SELECT * FROM ${R} WHERE requirement_id = $1::uuid`, [
      requirementId,
    ]);
    return rows[0] ?? null;
  }

  async findDefect(tx: EntityManager, projectId: string, defectId: string): Promise<DefectTarget | null> {
    const rows: DefectTarget[] = await tx.query(
      `SELECT * FROM ${D} WHERE project_id = $1 AND defect_id = $2`,
      [projectId, defectId],
    );
    return rows[0] ?? null;
  }

  /** The pushed defect whose issue this is, on this connection. */
  async defectOfIssue(tx: EntityManager, connectionId: string, iid: number): Promise<DefectTarget | null> {
    const rows: DefectTarget[] = await tx.query(
      `SELECT * FROM ${D} WHERE connection_id = $1::uuid AND iid = $2 LIMIT 1`,
      [connectionId, iid],
    );
    return rows[0] ?? null;
  }

  async isRequirementIssue(tx: EntityManager, connectionId: string, iid: number): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM ${R} WHERE connection_id = $1::uuid AND iid = $2 LIMIT 1`,
      [connectionId, iid],
    );
    return rows.length > 0;
  }

  /**
   * A connection to a GitLab project (instance and project id) takes over the requirements and
   * defects of the same TestKase project that an earlier connection to it had.
   */
  async attach(tx: EntityManager, project: ProjectContext): Promise<number> {
    let total = 0;
    for (const table of [R, D]) {
      const [, count]: [unknown[], number] = await tx.query(
        `UPDATE ${table} SET connection_id = $1::uuid, updated_at = now()
          WHERE project_id = $2 AND instance_url = $3 AND gitlab_project_id = $4
            AND connection_id IS DISTINCT FROM $1::uuid`,
        [project.connectionId, project.projectId, project.instanceUrl, project.gitlabProjectId],
      );
      total += count;
    }
    return total;
  }

  async markNotesChecked(tx: EntityManager, connectionId: string, iids: readonly number[]): Promise<void> {
    if (iids.length === 0) return;
    await tx.query(
      `UPDATE ${D} SET notes_checked_at = now() WHERE connection_id = $1::uuid AND iid = ANY($2::integer[])`,
      [connectionId, iids],
    );
  }
}
