import type { MigrationInterface, QueryRunner } from 'typeorm';

import { messagingTablesV1Down, messagingTablesV1Up } from '@testkase/platform';

import { SCHEMA } from '../schema';

/** The outbox and inbox every service keeps in its own schema. */
export class CreateMessagingTables1764057600000 implements MigrationInterface {
  name = 'CreateMessagingTables1764057600000';

  async up(runner: QueryRunner): Promise<void> {
    for (const sql of messagingTablesV1Up(SCHEMA)) await runner.query(sql);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const sql of messagingTablesV1Down(SCHEMA)) await runner.query(sql);
  }
}
