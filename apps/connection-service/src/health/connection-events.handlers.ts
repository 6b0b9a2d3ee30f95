import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import {
  BackfillProgressReported,
  BackfillProgressReportedV1,
  ConnectionAuthFailed,
  ConnectionAuthFailedV1,
  DeliveriesRefused,
  DeliveriesRefusedV1,
  DeliveriesSeen,
  DeliveriesSeenV1,
  STREAMS,
} from '@testkase/contracts';
import { ConsumerRegistry, Inbox, LOGGER, type InboundMessage, type Logger } from '@testkase/platform';

import type { ConnectionConfig } from '../config/connection-service.config';
import { ConnectionStateWriter } from '../connection/connection-state.writer';
import { ConnectionRepository } from '../persistence/connection.repository';
import type { BackfillRecord } from '../persistence/entities/connection.entity';
import { CONNECTION_CONFIG } from '../shared/tokens';
import { parseEvent } from './inbound-event';

export const DURABLES = {
  authFailed: 'connection-service-auth-failed',
  deliveriesSeen: 'connection-service-deliveries-seen',
  deliveriesRefused: 'connection-service-deliveries-refused',
  backfillProgress: 'connection-service-backfill-progress',
} as const;

/** At most one backfill status event per connection in this window, besides state changes. */
export const BACKFILL_ANNOUNCE_INTERVAL_MS = 5_000;

const RANK = { running: 0, completed: 1, failed: 1 } as const;

/** Whether a backfill report is news compared with what we hold (reports may arrive out of order). */
export function isNewerBackfill(current: BackfillRecord | null, report: BackfillRecord): boolean {
  if (!current) return true;
  if (report.startedAt !== current.startedAt) return report.startedAt > current.startedAt;
  if (RANK[report.state] !== RANK[current.state]) return RANK[report.state] > RANK[current.state];
  return report.imported > current.imported;
}

/**
 * Health facts other services report about a connection: a 401 (→ auth_failed), the gateway's
 * delivery summaries (last delivery time; a manual hook's first delivery) and backfill progress.
 * Each event is applied once (inbox) in the same transaction as its effect.
 */
@Injectable()
export class ConnectionEventsHandlers implements OnModuleInit {
  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly inbox: Inbox,
    private readonly dataSource: DataSource,
    private readonly repository: ConnectionRepository,
    private readonly state: ConnectionStateWriter,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONNECTION_CONFIG) private readonly config: ConnectionConfig,
  ) {}

  onModuleInit(): void {
    const stream = STREAMS.INTEGRATION.name;
    this.consumers.register({
      stream,
      durable: DURABLES.authFailed,
      filterSubject: ConnectionAuthFailed.subject,
      handler: (message) => this.onAuthFailed(message),
    });
    this.consumers.register({
      stream,
      durable: DURABLES.deliveriesSeen,
      filterSubject: DeliveriesSeen.subject,
      handler: (message) => this.onDeliveriesSeen(message),
    });
    this.consumers.register({
      stream,
      durable: DURABLES.deliveriesRefused,
      filterSubject: DeliveriesRefused.subject,
      handler: (message) => this.onDeliveriesRefused(message),
    });
    this.consumers.register({
      stream,
      durable: DURABLES.backfillProgress,
      filterSubject: BackfillProgressReported.subject,
      handler: (message) => this.onBackfillProgress(message),
    });
  }

  async onAuthFailed(message: InboundMessage): Promise<void> {
    const event = parseEvent(message, ConnectionAuthFailedV1);
    await this.inbox.once(this.dataSource, DURABLES.authFailed, event.id, async (tx) => {
      const row = await this.repository.lockLiveById(tx, event.data.connectionId);
      const occurredAt = new Date(event.data.occurredAt);
      // A 401 seen with the token we have since replaced says nothing about the new one.
      if (!row || occurredAt < row.tokenUpdatedAt) return;
      const previous = row.status;
      row.authFailedAt = occurredAt;
      row.lastError = {
        code: 'AUTH_FAILED',
        message: `${event.data.service}: ${event.data.detail}`.slice(0, 500),
        at: event.data.occurredAt,
      };
      await this.state.save(tx, row, previous, new Date());
      this.logger.warn({ connectionId: row.id, reportedBy: event.data.service }, 'GitLab refused the token');
    });
  }

  async onDeliveriesSeen(message: InboundMessage): Promise<void> {
    const event = parseEvent(message, DeliveriesSeenV1);
    await this.inbox.once(this.dataSource, DURABLES.deliveriesSeen, event.id, async (tx) => {
      const row = await this.repository.lockLiveById(tx, event.data.connectionId);
      if (!row) return;
      const seen = new Date(event.data.lastDeliveryAt);
      if (row.lastDeliveryAt && row.lastDeliveryAt >= seen) return;
      const previous = row.status;
      row.lastDeliveryAt = seen;
      await this.state.save(tx, row, previous, new Date());
    });
  }

  /**
   * Deliveries the gateway refused for this connection: counted on the hook (since its secret was
   * last renewed; refusals from before that are old news), and a managed hook is checked at the next
   * health round, which renews the secret GitLab no longer shares with us. At most once per
   * HEALTH_CHECK_INTERVAL, so that someone posting wrong tokens cannot make us rotate in a loop.
   */
  async onDeliveriesRefused(message: InboundMessage): Promise<void> {
    const event = parseEvent(message, DeliveriesRefusedV1);
    await this.inbox.once(this.dataSource, DURABLES.deliveriesRefused, event.id, async (tx) => {
      const row = await this.repository.lockLiveById(tx, event.data.connectionId);
      if (!row) return;
      const last = new Date(event.data.lastRefusedAt);
      // Refused before the last renewal: old news (a signed delivery GitLab had queued before it
      // carries the old key's signature, which the gateway accepts for the grace period).
      if (row.hookSecretRenewedAt && last <= row.hookSecretRenewedAt) return;
      const now = new Date();
      row.hookRefusedDeliveries += event.data.count;
      if (!row.hookLastRefusedAt || last > row.hookLastRefusedAt) row.hookLastRefusedAt = last;
      const renewedLongAgo =
        !row.hookSecretRenewedAt ||
        now.getTime() - row.hookSecretRenewedAt.getTime() >= this.config.HEALTH_CHECK_INTERVAL;
      if (row.mode === 'webhook_managed' && renewedLongAgo) row.healthCheckedAt = null;
      await this.state.save(tx, row, row.status, now, { announce: false });
      this.logger.warn(
        { connectionId: row.id, refused: event.data.count, total: row.hookRefusedDeliveries },
        'the gateway refused deliveries of this hook',
      );
    });
  }

  async onBackfillProgress(message: InboundMessage): Promise<void> {
    const event = parseEvent(message, BackfillProgressReportedV1);
    await this.inbox.once(this.dataSource, DURABLES.backfillProgress, event.id, async (tx) => {
      const row = await this.repository.lockLiveById(tx, event.data.connectionId);
      if (!row) return;
      const report: BackfillRecord = {
        state: event.data.state,
        imported: event.data.imported,
        expected: event.data.expected ?? null,
        startedAt: event.data.startedAt,
        finishedAt: event.data.finishedAt ?? null,
      };
      if (!isNewerBackfill(row.backfill, report)) return;
      const now = new Date();
      const stateChanged =
        row.backfill?.state !== report.state || row.backfill.startedAt !== report.startedAt;
      const quietLongEnough =
        !row.backfillReportedAt ||
        now.getTime() - row.backfillReportedAt.getTime() >= BACKFILL_ANNOUNCE_INTERVAL_MS;
      const announce = stateChanged || quietLongEnough;
      row.backfill = report;
      if (announce) row.backfillReportedAt = now;
      await this.state.save(tx, row, row.status, now, { announce });
    });
  }
}
