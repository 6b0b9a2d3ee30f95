import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * The signing token of a managed hook (GitLab's Standard Webhooks HMAC), sealed like the access
 * token, and wiped with it on disconnect.
 */
export class AddHookSigningToken1764576000000 implements MigrationInterface {
  name = 'AddHookSigningToken1764576000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${SCHEMA}".connections
      ADD COLUMN hook_signing_key_id text,
      ADD COLUMN hook_signing_ciphertext text,
      ADD CONSTRAINT connections_hook_signing_sealed
        CHECK ((hook_signing_key_id IS NULL) = (hook_signing_ciphertext IS NULL)),
      ADD CONSTRAINT connections_hook_signing_live
        CHECK (disconnected_at IS NULL OR hook_signing_ciphertext IS NULL)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${SCHEMA}".connections
      DROP CONSTRAINT connections_hook_signing_live,
      DROP CONSTRAINT connections_hook_signing_sealed,
      DROP COLUMN hook_signing_ciphertext,
      DROP COLUMN hook_signing_key_id`);
  }
}
