import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * The connection projection, the requirements, and the issues that are defects (never imported).
 * A requirement is keyed by (TestKase project, GitLab instance, GitLab project, iid): a reconnect to
 * the same GitLab project finds its requirements again, another TestKase project never does.
 */
export class CreateRequirements1764316800000 implements MigrationInterface {
  name = 'CreateRequirements1764316800000';

  async up(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(`
      CREATE TABLE ${s}.connections (
        connection_id uuid PRIMARY KEY,
        project_id text NOT NULL,
        instance_url text NOT NULL,
        gitlab_project_id bigint NOT NULL,
        project_path text NOT NULL,
        project_web_url text NOT NULL,
        mode text NOT NULL,
        token_user_id bigint,
        state text NOT NULL CHECK (state IN ('active', 'disconnected')),
        state_changed_at timestamptz NOT NULL,
        auth_failed_at timestamptz,
        backfill_state text NOT NULL DEFAULT 'pending'
          CHECK (backfill_state IN ('pending', 'running', 'completed', 'failed')),
        backfill_cursor text,
        backfill_imported integer NOT NULL DEFAULT 0,
        backfill_expected integer,
        backfill_started_at timestamptz,
        backfill_finished_at timestamptz,
        watermark timestamptz,
        last_reconciled_at timestamptz,
        last_full_sweep_at timestamptz,
        full_sweep_requested_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX connections_project_idx ON ${s}.connections (project_id)`);
    await runner.query(
      `CREATE INDEX connections_active_idx ON ${s}.connections (connection_id) WHERE state = 'active'`,
    );
    await runner.query(`
      CREATE TABLE ${s}.requirements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id text NOT NULL,
        connection_id uuid,
        instance_url text NOT NULL,
        gitlab_project_id bigint NOT NULL,
        iid integer NOT NULL CHECK (iid > 0),
        issue_id bigint,
        title text NOT NULL,
        description_markdown text NOT NULL,
        description_html text NOT NULL,
        labels text[] NOT NULL,
        priority text NOT NULL CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
        status text NOT NULL CHECK (status IN ('Active', 'Deprecated')),
        deprecated_reason text CHECK (deprecated_reason IN ('closed', 'deleted_or_moved')),
        confidential boolean NOT NULL,
        web_url text NOT NULL,
        gitlab_created_at timestamptz,
        gitlab_updated_at timestamptz NOT NULL,
        gitlab_updated_at_exact boolean NOT NULL,
        sync_state text NOT NULL CHECK (sync_state IN ('synced', 'detached')),
        source text NOT NULL CHECK (source IN ('rest', 'webhook', 'testkase')),
        needs_refresh boolean NOT NULL DEFAULT false,
        version integer NOT NULL DEFAULT 1,
        changed_fields text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT requirements_issue_key UNIQUE (project_id, instance_url, gitlab_project_id, iid)
      )`);
    await runner.query(`CREATE INDEX requirements_connection_idx ON ${s}.requirements (connection_id, iid)`);
    await runner.query(`CREATE INDEX requirements_labels_idx ON ${s}.requirements USING gin (labels)`);
    await runner.query(`
      CREATE TABLE ${s}.defect_issues (
        project_id text NOT NULL,
        instance_url text NOT NULL,
        gitlab_project_id bigint NOT NULL,
        iid integer NOT NULL,
        defect_id text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, instance_url, gitlab_project_id, iid)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(`DROP TABLE ${s}.defect_issues`);
    await runner.query(`DROP TABLE ${s}.requirements`);
    await runner.query(`DROP TABLE ${s}.connections`);
  }
}
