import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * Why a requirement is Deprecated, precisely (docs/ARCHITECTURE.md, "Requirements: deleted, moved
 * and retyped issues"): `deprecated_reason` becomes `closed`, `deleted`, `moved` or `retyped`
 * (rows marked `deleted_or_moved` by the earlier full sweep, which found them gone, become
 * `deleted`); a moved issue keeps where it went (`moved_to_issue_id`, and its `moved_to_iid` /
 * `moved_to_url` when GitLab told); `connections.last_deletion_check_at` schedules the hourly
 * deletion check.
 */
export class TrackIssueFate1765600000000 implements MigrationInterface {
  name = 'TrackIssueFate1765600000000';

  async up(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await this.dropReasonCheck(runner);
    await runner.query(
      `UPDATE ${s}.requirements SET deprecated_reason = 'deleted' WHERE deprecated_reason = 'deleted_or_moved'`,
    );
    await runner.query(`
      ALTER TABLE ${s}.requirements
        ADD CONSTRAINT requirements_deprecated_reason_check
          CHECK (deprecated_reason IN ('closed', 'deleted', 'moved', 'retyped')),
        ADD COLUMN moved_to_issue_id bigint,
        ADD COLUMN moved_to_iid integer,
        ADD COLUMN moved_to_url text`);
    await runner.query(`ALTER TABLE ${s}.connections ADD COLUMN last_deletion_check_at timestamptz`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = `"${SCHEMA}"`;
    await runner.query(`ALTER TABLE ${s}.connections DROP COLUMN last_deletion_check_at`);
    await this.dropReasonCheck(runner);
    await runner.query(
      `UPDATE ${s}.requirements SET deprecated_reason = 'deleted_or_moved'
        WHERE deprecated_reason IN ('deleted', 'moved', 'retyped')`,
    );
    await runner.query(`
      ALTER TABLE ${s}.requirements
        DROP COLUMN moved_to_url, DROP COLUMN moved_to_iid, DROP COLUMN moved_to_issue_id,
        ADD CONSTRAINT requirements_deprecated_reason_check
          CHECK (deprecated_reason IN ('closed', 'deleted_or_moved'))`);
  }

  /** The check of CreateRequirements was unnamed: find it by its column. */
  private async dropReasonCheck(runner: QueryRunner): Promise<void> {
    const rows: Array<{ conname: string }> = await runner.query(
      `SELECT conname FROM pg_constraint
        WHERE conrelid = '"${SCHEMA}".requirements'::regclass AND contype = 'c'
          AND pg_get_constraintdef(oid) LIKE '%deprecated_reason%'`,
    );
    for (const { conname } of rows)
      await runner.query(`ALTER TABLE "${SCHEMA}".requirements DROP CONSTRAINT "${conname}"`);
  }
}
