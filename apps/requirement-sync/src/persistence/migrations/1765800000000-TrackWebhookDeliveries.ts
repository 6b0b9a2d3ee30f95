import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SCHEMA } from '../schema';

/**
 * When the gateway last reported a webhook delivery for a connection (`integration.webhook.deliveries_seen`):
 * a `webhook_manual` connection without one is polled every POLL_INTERVAL_NO_HOOK instead of every
 * RECONCILE_INTERVAL_MANUAL.
 */
export class TrackWebhookDeliveries1765800000000 implements MigrationInterface {
  name = 'TrackWebhookDeliveries1765800000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${SCHEMA}".connections ADD COLUMN last_delivery_at timestamptz`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${SCHEMA}".connections DROP COLUMN last_delivery_at`);
  }
}
