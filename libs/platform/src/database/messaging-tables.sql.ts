import type { MigrationInterface, QueryRunner } from 'typeorm';

import { assertIdentifier } from './data-source.factory';

/**
 * DDL of the outbox and inbox tables every service keeps in its own schema (version 1).
 * Apps call these from their own first migration; the platform lib exports SQL, never entities.
 * Append-only: a change is a new function (v2) used by a new migration.
 */
export function messagingTablesV1Up(schema: string): string[] {
  const s = `"${assertIdentifier(schema)}"`;
  return [
    `CREATE TABLE ${s}.outbox (
       id bigserial PRIMARY KEY,
       event_id uuid NOT NULL UNIQUE,
       subject text NOT NULL,
       headers jsonb NOT NULL DEFAULT '{}'::jsonb,
       payload text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       published_at timestamptz
     )`,
    `CREATE INDEX outbox_unpublished_idx ON ${s}.outbox (id) WHERE published_at IS NULL`,
    `CREATE INDEX outbox_published_at_idx ON ${s}.outbox (published_at) WHERE published_at IS NOT NULL`,
    `CREATE TABLE ${s}.inbox (
       consumer text NOT NULL,
       event_id text NOT NULL,
       processed_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (consumer, event_id)
     )`,
    `CREATE INDEX inbox_processed_at_idx ON ${s}.inbox (processed_at)`,
  ];
}

export function messagingTablesV1Down(schema: string): string[] {
  const s = `"${assertIdentifier(schema)}"`;
  return [`DROP TABLE ${s}.inbox`, `DROP TABLE ${s}.outbox`];
}

/**
 * The first migration of every service: its outbox and inbox. A service's migration is
 * `class CreateMessagingTables<ts> extends MessagingTablesMigrationV1 { constructor() { super(SCHEMA); } }`.
 */
export abstract class MessagingTablesMigrationV1 implements MigrationInterface {
  abstract readonly name: string;

  protected constructor(private readonly schema: string) {}

  async up(runner: QueryRunner): Promise<void> {
    for (const sql of messagingTablesV1Up(this.schema)) await runner.query(sql);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const sql of messagingTablesV1Down(this.schema)) await runner.query(sql);
  }
}

/**
 * Version 2 of the outbox: a row the relay cannot publish (over the server's `max_payload`, or failing
 * while later rows go through) is parked with its reason instead of holding up every later event;
 * `attempts` and `last_error` say how often and why it failed. The relay reads unpublished rows that
 * are not parked; {@link replayParkedOutboxRows} (libs/platform/src/messaging/outbox-admin.ts) gives
 * parked rows back to it.
 */
export function messagingTablesV2Up(schema: string): string[] {
  const s = `"${assertIdentifier(schema)}"`;
  return [
    `ALTER TABLE ${s}.outbox
       ADD COLUMN attempts integer NOT NULL DEFAULT 0,
       ADD COLUMN last_error text,
       ADD COLUMN parked_at timestamptz,
       ADD COLUMN park_reason text`,
    `DROP INDEX ${s}.outbox_unpublished_idx`,
    `CREATE INDEX outbox_unpublished_idx ON ${s}.outbox (id) WHERE published_at IS NULL AND parked_at IS NULL`,
    `CREATE INDEX outbox_parked_idx ON ${s}.outbox (id) WHERE parked_at IS NOT NULL AND published_at IS NULL`,
  ];
}

export function messagingTablesV2Down(schema: string): string[] {
  const s = `"${assertIdentifier(schema)}"`;
  return [
    `DROP INDEX ${s}.outbox_parked_idx`,
    `DROP INDEX ${s}.outbox_unpublished_idx`,
    `CREATE INDEX outbox_unpublished_idx ON ${s}.outbox (id) WHERE published_at IS NULL`,
    `ALTER TABLE ${s}.outbox DROP COLUMN attempts, DROP COLUMN last_error, DROP COLUMN parked_at,
       DROP COLUMN park_reason`,
  ];
}

/**
 * The outbox's parking columns, in every service after its {@link MessagingTablesMigrationV1}:
 * `class ParkOutboxRows<ts> extends MessagingTablesMigrationV2 { constructor() { super(SCHEMA); } }`.
 */
export abstract class MessagingTablesMigrationV2 implements MigrationInterface {
  abstract readonly name: string;

  protected constructor(private readonly schema: string) {}

  async up(runner: QueryRunner): Promise<void> {
    for (const sql of messagingTablesV2Up(this.schema)) await runner.query(sql);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const sql of messagingTablesV2Down(this.schema)) await runner.query(sql);
  }
}

/**
 * Version 3 of the outbox: the W3C trace context (`traceparent`, `tracestate`) of the work that
 * staged each row, null for rows staged outside a trace or before this version. The relay's
 * producer span is its child and carries it into the NATS headers (docs/ARCHITECTURE.md,
 * "Telemetry"), so one trace runs from a webhook to the events its handling emits.
 */
export function messagingTablesV3Up(schema: string): string[] {
  const s = `"${assertIdentifier(schema)}"`;
  return [`ALTER TABLE ${s}.outbox ADD COLUMN traceparent text, ADD COLUMN tracestate text`];
}

export function messagingTablesV3Down(schema: string): string[] {
  const s = `"${assertIdentifier(schema)}"`;
  return [`ALTER TABLE ${s}.outbox DROP COLUMN traceparent, DROP COLUMN tracestate`];
}

/**
 * The outbox's trace context columns, in every service after its {@link MessagingTablesMigrationV2}:
 * `class KeepOutboxTraceContext<ts> extends MessagingTablesMigrationV3 { constructor() { super(SCHEMA); } }`.
 */
export abstract class MessagingTablesMigrationV3 implements MigrationInterface {
  abstract readonly name: string;

  protected constructor(private readonly schema: string) {}

  async up(runner: QueryRunner): Promise<void> {
    for (const sql of messagingTablesV3Up(this.schema)) await runner.query(sql);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const sql of messagingTablesV3Down(this.schema)) await runner.query(sql);
  }
}
