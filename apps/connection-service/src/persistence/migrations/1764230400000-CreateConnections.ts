import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/** The connections table: one row per TestKase project ⇄ GitLab project link, kept after a disconnect. */
export class CreateConnections1764230400000 implements MigrationInterface {
  name = 'CreateConnections1764230400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE "${SCHEMA}".connections (
      id uuid PRIMARY KEY,
      project_id text NOT NULL,
      platform text NOT NULL DEFAULT 'gitlab',
      instance_url text NOT NULL,
      gitlab_project_id integer NOT NULL,
      project_path text NOT NULL,
      project_web_url text NOT NULL,
      mode text NOT NULL CHECK (mode IN ('webhook_managed', 'webhook_manual')),
      status text NOT NULL CHECK (status IN ('active', 'awaiting_first_delivery', 'token_expiring', 'auth_failed', 'hook_disabled', 'disconnected')),
      token_key_id text,
      token_ciphertext text,
      token_hint text NOT NULL,
      token_scopes text[] NOT NULL DEFAULT '{}',
      token_expires_at date,
      token_user_id integer NOT NULL,
      token_username text NOT NULL,
      token_updated_at timestamptz NOT NULL,
      access_level integer NOT NULL,
      ca_certificate text,
      hook_id integer,
      hook_url text NOT NULL,
      hook_secret_sha256 text NOT NULL CHECK (hook_secret_sha256 ~ '^[0-9a-f]{64}$'),
      hook_alert_status text NOT NULL,
      hook_disabled_until timestamptz,
      hook_checked_at timestamptz,
      hook_removal jsonb,
      last_delivery_at timestamptz,
      last_error jsonb,
      auth_failed_at timestamptz,
      backfill jsonb,
      backfill_reported_at timestamptz,
      health_checked_at timestamptz,
      connected_at timestamptz NOT NULL,
      disconnected_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((disconnected_at IS NULL) = (token_ciphertext IS NOT NULL AND token_key_id IS NOT NULL))
    )`);
    // At most one live connection per TestKase project.
    await runner.query(
      `CREATE UNIQUE INDEX connections_live_project_idx ON "${SCHEMA}".connections (project_id) WHERE disconnected_at IS NULL`,
    );
    // A reconnect to the same GitLab project reuses the row.
    await runner.query(
      `CREATE UNIQUE INDEX connections_target_idx ON "${SCHEMA}".connections (project_id, instance_url, gitlab_project_id)`,
    );
    await runner.query(
      `CREATE INDEX connections_health_idx ON "${SCHEMA}".connections (health_checked_at NULLS FIRST) WHERE disconnected_at IS NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${SCHEMA}".connections`);
  }
}
