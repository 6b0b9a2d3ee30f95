import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * Bytes of pending (not parked) spool rows per connection, kept by a trigger on every insert,
 * delete and parking of a spool row, so that the request path checks a connection's quota with one
 * index lookup instead of summing its rows (docs/ARCHITECTURE.md, "webhook-gateway").
 */
export class SpoolPendingUsage1766200000000 implements MigrationInterface {
  name = 'SpoolPendingUsage1766200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE "${SCHEMA}".spool_usage (
      connection_key text PRIMARY KEY,
      pending_bytes bigint NOT NULL DEFAULT 0
    )`);
    // The connection is the third token of `gitlab.events.<connectionId>.<kind>`.
    await runner.query(`CREATE FUNCTION "${SCHEMA}".spool_usage_track() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' AND OLD.parked_at IS NULL THEN
          UPDATE "${SCHEMA}".spool_usage SET pending_bytes = pending_bytes - length(OLD.body)
           WHERE connection_key = split_part(OLD.subject, '.', 3);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.parked_at IS NULL THEN
          INSERT INTO "${SCHEMA}".spool_usage AS u (connection_key, pending_bytes)
          VALUES (split_part(NEW.subject, '.', 3), length(NEW.body))
          ON CONFLICT (connection_key) DO UPDATE SET pending_bytes = u.pending_bytes + excluded.pending_bytes;
        END IF;
        RETURN NULL;
      END $$`);
    await runner.query(`CREATE TRIGGER spool_usage_track
      AFTER INSERT OR DELETE OR UPDATE OF parked_at, body, subject ON "${SCHEMA}".spool
      FOR EACH ROW EXECUTE FUNCTION "${SCHEMA}".spool_usage_track()`);
    await runner.query(`INSERT INTO "${SCHEMA}".spool_usage (connection_key, pending_bytes)
      SELECT split_part(subject, '.', 3), sum(length(body)) FROM "${SCHEMA}".spool
       WHERE parked_at IS NULL GROUP BY 1`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TRIGGER spool_usage_track ON "${SCHEMA}".spool`);
    await runner.query(`DROP FUNCTION "${SCHEMA}".spool_usage_track()`);
    await runner.query(`DROP TABLE "${SCHEMA}".spool_usage`);
  }
}
