import type { Client } from 'pg';

import { AdvisoryLockLeader, type LeaderSettings, type RoundResult } from '../database/advisory-lock-leader';
import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import type { NatsClient } from './nats-client';

/**
 * What every relay from a Postgres table into JetStream shares (the outbox relay, the gateway's
 * spool relay): one replica drains at a time ({@link AdvisoryLockLeader}), it is woken by new rows
 * and whenever NATS comes back, and a gauge says which replica leads.
 */
export abstract class LeaderRelay {
  private readonly leader: AdvisoryLockLeader;

  protected constructor(
    leaderSettings: LeaderSettings,
    leaderGauge: { name: string; help: string },
    nats: NatsClient,
    logger: Logger,
    metrics: MetricsRegistry,
  ) {
    const gauge = metrics.gauge(leaderGauge.name, leaderGauge.help);
    gauge.set(0);
    this.leader = new AdvisoryLockLeader(
      leaderSettings,
      { onLeading: (client) => this.onLeading(client), round: (client) => this.round(client) },
      logger,
      (leading) => {
        gauge.set(leading ? 1 : 0);
        if (!leading) this.onLeadershipLost();
      },
    );
    nats.onConnected(() => this.wake());
  }

  /** Once leadership is won, on the leader's own connection (e.g. `LISTEN`). */
  protected onLeading(_client: Client): Promise<void> {
    return Promise.resolve();
  }

  /** Once this replica no longer leads (e.g. to reset what only the leader reports). */
  protected onLeadershipLost(): void {
    // Nothing by default.
  }

  /** One round of draining on the leader's connection (see {@link RoundResult}). */
  protected abstract round(client: Client): Promise<RoundResult>;

  /** The leader's connection, while leading (for read-only side queries such as metrics). */
  protected get leaderConnection(): Client | undefined {
    return this.leader.connection;
  }

  get isLeader(): boolean {
    return this.leader.isLeader;
  }

  start(): void {
    this.leader.start();
  }

  /** Look for rows now instead of at the next poll. */
  wake(): void {
    this.leader.wake();
  }

  stop(): Promise<void> {
    return this.leader.stop();
  }
}
