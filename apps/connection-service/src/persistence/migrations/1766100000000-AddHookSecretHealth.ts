import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * Refused deliveries the gateway reported (a secret GitLab no longer shares with us), when the
 * hook's secret was last renewed, and the previous secret's hash with the end of its grace period
 * (docs/ARCHITECTURE.md, "Messaging": the `WEBHOOK_VERIFIERS` entry carries both during a rotation);
 * and `hook_rotations`, a rotation under way (committed before GitLab learns the new secret, deleted
 * with the commit that records it), so that a restart can complete one a crash left half done. The
 * secrets in it are sealed like the access token; no foreign key, so that writing it never waits
 * for the lock the rotating transaction holds on the connection.
 */
export class AddHookSecretHealth1766100000000 implements MigrationInterface {
  name = 'AddHookSecretHealth1766100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE "${SCHEMA}".connections
         ADD COLUMN hook_refused_deliveries integer NOT NULL DEFAULT 0,
         ADD COLUMN hook_last_refused_at timestamptz,
         ADD COLUMN hook_secret_renewed_at timestamptz,
         ADD COLUMN hook_previous_secret_sha256 text,
         ADD COLUMN hook_previous_until timestamptz`,
    );
    await runner.query(
      `CREATE TABLE "${SCHEMA}".hook_rotations (
         connection_id uuid PRIMARY KEY,
         new_secret_sha256 text NOT NULL,
         previous_secret_sha256 text,
         key_id text NOT NULL,
         secrets_ciphertext text NOT NULL,
         started_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${SCHEMA}".hook_rotations`);
    await runner.query(
      `ALTER TABLE "${SCHEMA}".connections
         DROP COLUMN hook_refused_deliveries,
         DROP COLUMN hook_last_refused_at,
         DROP COLUMN hook_secret_renewed_at,
         DROP COLUMN hook_previous_secret_sha256,
         DROP COLUMN hook_previous_until`,
    );
  }
}
