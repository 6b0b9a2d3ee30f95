import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * Which issues are defects is now decided by defect-sync's events, not by the marker alone: only the
 * issue defect-sync created is a defect (a `/clone` or a pasted description carries the marker too).
 * `defect_pushes` records pushes in flight (their marker keeps matching issues out), `held_issues`
 * the marker-bearing issues waiting for their push to end or for the grace period to pass. Rows in
 * `defect_issues` came from markers alone: they are dropped, and a full sweep decides anew.
 */
export class TrackDefectPushes1764921600002 implements MigrationInterface {
  name = 'TrackDefectPushes1764921600002';

  async up(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(`
      CREATE TABLE ${s}.defect_pushes (
        project_id text NOT NULL,
        defect_id text NOT NULL,
        connection_id uuid NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        outcome text CHECK (outcome IN ('linked', 'failed')),
        PRIMARY KEY (project_id, defect_id)
      )`);
    await runner.query(`
      CREATE TABLE ${s}.held_issues (
        connection_id uuid NOT NULL,
        iid integer NOT NULL,
        defect_id text NOT NULL,
        issue_created_at timestamptz NOT NULL,
        recheck_at timestamptz NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection_id, iid)
      )`);
    await runner.query(
      `CREATE INDEX held_issues_recheck_idx ON ${s}.held_issues (connection_id, recheck_at)`,
    );
    await runner.query(`DELETE FROM ${s}.defect_issues`);
    await runner.query(
      `UPDATE ${s}.connections SET full_sweep_requested_at = now() WHERE state = 'active' AND backfill_state = 'completed'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(`DROP TABLE ${s}.held_issues`);
    await runner.query(`DROP TABLE ${s}.defect_pushes`);
  }
}
