import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * The last webhook verifiers the gateway saw in the WEBHOOK_VERIFIERS bucket (secret hashes only,
 * never a signing key), so that a gateway started while NATS is down still authenticates deliveries
 * and spools them instead of refusing them.
 */
export class CreateVerifierSnapshot1764576000000 implements MigrationInterface {
  name = 'CreateVerifierSnapshot1764576000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE "${SCHEMA}".verifiers (
      connection_id uuid PRIMARY KEY,
      entry jsonb NOT NULL,
      saved_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${SCHEMA}".verifiers`);
  }
}
