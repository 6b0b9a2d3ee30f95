import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * The defects pushed to GitLab and their sync state, and each connection's reconciliation progress
 * (columns added to the kit's connection projection). A defect is keyed by (TestKase project,
 * defect id); its issue by (project, instance, GitLab project, iid), so a reconnect to the same
 * GitLab project finds its defects again and another TestKase project never does.
 */
export class CreateDefects1764921600001 implements MigrationInterface {
  name = 'CreateDefects1764921600001';

  async up(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(`
      ALTER TABLE ${s}.connections
        ADD COLUMN watermark timestamptz,
        ADD COLUMN last_reconciled_at timestamptz,
        ADD COLUMN last_full_sweep_at timestamptz,
        ADD COLUMN full_sweep_requested_at timestamptz`);
    await runner.query(`
      CREATE TABLE ${s}.defects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id text NOT NULL,
        defect_id text NOT NULL,
        connection_id uuid,
        detached_at timestamptz,
        instance_url text NOT NULL,
        gitlab_project_id bigint NOT NULL,
        iid integer CHECK (iid > 0),
        issue_id bigint,
        web_url text,
        push_state text NOT NULL CHECK (push_state IN ('queued', 'created', 'failed')),
        push_attempts integer NOT NULL DEFAULT 0,
        push_started_at timestamptz,
        push_outcome_unknown boolean NOT NULL DEFAULT false,
        pushed_at timestamptz,
        title text NOT NULL,
        description text NOT NULL,
        url text NOT NULL,
        context jsonb,
        priority text NOT NULL CHECK (priority IN ('Blocker', 'Critical', 'Major', 'Minor', 'Trivial')),
        status text NOT NULL CHECK (status IN ('Open', 'In-Progress', 'Closed', 'Achieved')),
        field_times jsonb NOT NULL DEFAULT '{}'::jsonb,
        dirty text[] NOT NULL DEFAULT '{}',
        gl_title text,
        gl_description text,
        gl_state text CHECK (gl_state IN ('opened', 'closed')),
        gl_labels text[],
        gl_updated_at timestamptz,
        gl_updated_at_exact boolean,
        pending_label text,
        warnings jsonb NOT NULL DEFAULT '[]'::jsonb,
        error_code text,
        error_message text,
        error_at timestamptz,
        next_attempt_at timestamptz,
        failures integer NOT NULL DEFAULT 0,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT defects_defect_key UNIQUE (project_id, defect_id)
      )`);
    await runner.query(
      `CREATE UNIQUE INDEX defects_issue_key ON ${s}.defects (project_id, instance_url, gitlab_project_id, iid)
        WHERE iid IS NOT NULL`,
    );
    await runner.query(`CREATE INDEX defects_connection_iid_idx ON ${s}.defects (connection_id, iid)`);
    await runner.query(
      `CREATE INDEX defects_due_idx ON ${s}.defects (connection_id, next_attempt_at)
        WHERE next_attempt_at IS NOT NULL AND detached_at IS NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(`DROP TABLE ${s}.defects`);
    await runner.query(`
      ALTER TABLE ${s}.connections DROP COLUMN watermark, DROP COLUMN last_reconciled_at,
        DROP COLUMN last_full_sweep_at, DROP COLUMN full_sweep_requested_at`);
  }
}
