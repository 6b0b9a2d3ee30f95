import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * The spool: deliveries the gateway answered 2xx while JetStream could not take them. The relay
 * publishes rows in id order and deletes each only after JetStream's ack. A row that can never be
 * published (larger than the NATS server's max_payload) is parked with its error for an operator.
 */
export class CreateSpool1764230400000 implements MigrationInterface {
  name = 'CreateSpool1764230400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE "${SCHEMA}".spool (
      id bigserial PRIMARY KEY,
      subject text NOT NULL,
      msg_id text NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}'::jsonb,
      body bytea NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      parked_at timestamptz
    )`);
    await runner.query(`CREATE INDEX spool_pending_idx ON "${SCHEMA}".spool (id) WHERE parked_at IS NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${SCHEMA}".spool`);
  }
}
