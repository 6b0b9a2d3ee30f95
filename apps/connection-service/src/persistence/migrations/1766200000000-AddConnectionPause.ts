import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * An operator's pause of a connection's sync (docs/ADMIN-API.md, "Pause and resume"): `paused_at`
 * while paused, `pause_changed_at` the time of the last pause or resume (the `changedAt` of
 * `integration.connection.pause_changed`, which the consumers order by).
 */
export class AddConnectionPause1766200000000 implements MigrationInterface {
  name = 'AddConnectionPause1766200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE "${SCHEMA}".connections ADD COLUMN paused_at timestamptz, ADD COLUMN pause_changed_at timestamptz`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE "${SCHEMA}".connections DROP COLUMN paused_at, DROP COLUMN pause_changed_at`,
    );
  }
}
