import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * The checks the token's GitLab could not answer at the last connect, rotation or health check
 * (GitLab before 15.5 cannot describe one token): `[{code, message, gitlabVersion}]`, empty when
 * every check was made.
 */
export class AddCheckWarnings1765800000000 implements MigrationInterface {
  name = 'AddCheckWarnings1765800000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE "${SCHEMA}".connections ADD COLUMN check_warnings jsonb NOT NULL DEFAULT '[]'::jsonb`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${SCHEMA}".connections DROP COLUMN check_warnings`);
  }
}
