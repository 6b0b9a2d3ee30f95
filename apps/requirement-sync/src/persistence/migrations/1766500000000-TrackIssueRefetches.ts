import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * When the last read of an issue from GitLab for an event started (the database's clock), so that
 * the other replicas' events that arrived before it need no read of their own (docs/ARCHITECTURE.md,
 * "Real time: one read of an issue at a time"). One row per issue ever read again, overwritten.
 */
export class TrackIssueRefetches1766500000000 implements MigrationInterface {
  name = 'TrackIssueRefetches1766500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "${SCHEMA}".issue_refetches (
        connection_id uuid NOT NULL,
        iid integer NOT NULL,
        read_at timestamptz NOT NULL,
        PRIMARY KEY (connection_id, iid)
      )`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${SCHEMA}".issue_refetches`);
  }
}
