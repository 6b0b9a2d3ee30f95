import type { MigrationInterface, QueryRunner } from 'typeorm';

import { assertIdentifier } from '@testkase/platform';

/**
 * DDL of the connection projection every consumer keeps in its own schema (version 1): the table
 * {@link ConnectionProjection} reads and writes. Append-only: a change is a new version.
 */
export function connectionProjectionV1Up(schema: string): string[] {
  const s = `"${assertIdentifier(schema)}"`;
  return [
    `CREATE TABLE ${s}.connections (
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
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX connections_project_idx ON ${s}.connections (project_id)`,
    `CREATE INDEX connections_active_idx ON ${s}.connections (connection_id) WHERE state = 'active'`,
  ];
}

export function connectionProjectionV1Down(schema: string): string[] {
  return [`DROP TABLE "${assertIdentifier(schema)}".connections`];
}

/**
 * The migration that creates a consumer's connection projection. A service's migration is
 * `class CreateConnectionProjection<ts> extends ConnectionProjectionMigrationV1 { constructor() { super(SCHEMA); } }`.
 * (requirement-sync's table predates this class and carries the same columns and more.)
 */
export abstract class ConnectionProjectionMigrationV1 implements MigrationInterface {
  abstract readonly name: string;

  protected constructor(private readonly schema: string) {}

  async up(runner: QueryRunner): Promise<void> {
    for (const sql of connectionProjectionV1Up(this.schema)) await runner.query(sql);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const sql of connectionProjectionV1Down(this.schema)) await runner.query(sql);
  }
}

/**
 * The pause columns of the connection projection (version 2, docs/ADMIN-API.md "Pause and
 * resume"): `paused_at` while an operator has paused the connection's sync, `pause_changed_at` the
 * `changedAt` of the last `integration.connection.pause_changed` applied.
 */
export function connectionPauseUp(schema: string): string[] {
  return [
    `ALTER TABLE "${assertIdentifier(schema)}".connections
       ADD COLUMN paused_at timestamptz, ADD COLUMN pause_changed_at timestamptz`,
  ];
}

export function connectionPauseDown(schema: string): string[] {
  return [
    `ALTER TABLE "${assertIdentifier(schema)}".connections DROP COLUMN paused_at, DROP COLUMN pause_changed_at`,
  ];
}

/** `class AddConnectionPause<ts> extends ConnectionPauseMigration { constructor() { super(SCHEMA); } }` */
export abstract class ConnectionPauseMigration implements MigrationInterface {
  abstract readonly name: string;

  protected constructor(private readonly schema: string) {}

  async up(runner: QueryRunner): Promise<void> {
    for (const sql of connectionPauseUp(this.schema)) await runner.query(sql);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const sql of connectionPauseDown(this.schema)) await runner.query(sql);
  }
}
