import { readFileSync } from 'node:fs';

import {
  connect,
  credsAuthenticator,
  Events,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';

import { TransientError } from '@testkase/util';

import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import { DEFAULT_JETSTREAM_SETTINGS, type JetStreamSettings } from './jetstream-setup';
import { NatsNaming } from './nats-naming';

export interface NatsSettings {
  servers: string;
  /** Connection name shown by the NATS server (`nats server report connections`). */
  name: string;
  prefix: string;
  credsFile?: string;
  tlsCaFile?: string;
  /** Settings of the streams and buckets this app creates (JETSTREAM_*). */
  jetstream?: JetStreamSettings;
}

/**
 * The app's one NATS connection. Connecting never blocks start-up: the client retries forever in
 * the background and readiness reports whether it is connected. JetStream handles are shared.
 */
export class NatsClient {
  readonly naming: NatsNaming;
  /** How streams and KV buckets are created, and whether this app may create them. */
  readonly jetstreamSettings: JetStreamSettings;
  private connection?: NatsConnection;
  private jetStream?: JetStreamClient;
  private manager?: JetStreamManager;
  private connected = false;
  private closing = false;
  private readonly firstConnect: Promise<NatsConnection>;
  private readonly connectedListeners: Array<() => void> = [];
  private readonly connectedGauge;
  private readonly reconnects;

  /** `metrics`: `nats_connected` (1/0) and `nats_reconnects_total` (docs/ARCHITECTURE.md, "Telemetry"). */
  constructor(
    private readonly settings: NatsSettings,
    private readonly logger: Logger,
    metrics?: MetricsRegistry,
  ) {
    this.naming = new NatsNaming(settings.prefix);
    this.jetstreamSettings = settings.jetstream ?? DEFAULT_JETSTREAM_SETTINGS;
    this.connectedGauge = metrics?.gauge('nats_connected', '1 while the NATS connection is up, else 0');
    this.connectedGauge?.set(0);
    this.reconnects = metrics?.counter('nats_reconnects_total', 'Reconnects of the NATS connection');
    this.firstConnect = this.connectLoop();
    // Keep an unobserved rejection (only on close before connect) from crashing the process.
    this.firstConnect.catch(() => undefined);
  }

  private async connectLoop(): Promise<NatsConnection> {
    const nc = await connect({
      servers: this.settings.servers.split(',').map((s) => s.trim()),
      name: this.settings.name,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      reconnectJitter: 250,
      pingInterval: 5_000,
      maxPingOut: 2,
      timeout: 2_000,
      // Async stack traces on every request cost CPU on the hot publish path (the relay, the gateway).
      noAsyncTraces: true,
      ...(this.settings.credsFile
        ? { authenticator: credsAuthenticator(readFileSync(this.settings.credsFile)) }
        : {}),
      ...(this.settings.tlsCaFile ? { tls: { caFile: this.settings.tlsCaFile } } : {}),
    });
    if (this.closing) {
      await nc.close();
      throw new Error('closed before connecting');
    }
    this.connection = nc;
    this.jetStream = nc.jetstream();
    this.manager = await nc.jetstreamManager();
    this.connected = true;
    this.connectedGauge?.set(1);
    this.logger.info({ server: nc.getServer() }, 'NATS connected');
    void this.watchStatus(nc);
    for (const listener of this.connectedListeners) listener();
    return nc;
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    void nc.closed().then(() => {
      this.connected = false;
      this.connectedGauge?.set(0);
    });
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) {
        this.connected = false;
        this.connectedGauge?.set(0);
        this.logger.warn({ server: status.data }, 'NATS disconnected');
      } else if (status.type === Events.Reconnect) {
        this.connected = true;
        this.connectedGauge?.set(1);
        this.reconnects?.inc();
        this.logger.info({ server: status.data }, 'NATS reconnected');
        for (const listener of this.connectedListeners) listener();
      }
    }
  }

  /** Resolves once the first connection is up (waits as long as it takes). */
  ready(): Promise<NatsConnection> {
    return this.firstConnect;
  }

  /** Calls `listener` after the first connect and after every reconnect. */
  onConnected(listener: () => void): void {
    this.connectedListeners.push(listener);
    if (this.connected) listener();
  }

  get isConnected(): boolean {
    return this.connected && !!this.connection && !this.connection.isClosed();
  }

  get nc(): NatsConnection {
    if (!this.connection) throw new TransientError('NATS is not connected yet');
    return this.connection;
  }

  get js(): JetStreamClient {
    if (!this.jetStream) throw new TransientError('NATS is not connected yet');
    return this.jetStream;
  }

  get jsm(): JetStreamManager {
    if (!this.manager) throw new TransientError('NATS is not connected yet');
    return this.manager;
  }

  /** A round trip to the server, bounded by `timeoutMs`: the readiness probe. */
  async ping(timeoutMs = 1_000): Promise<boolean> {
    if (!this.isConnected) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.nc.flush().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drains subscriptions and pending publishes, then closes. */
  async close(): Promise<void> {
    this.closing = true;
    const nc = this.connection;
    if (!nc || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch (error) {
      this.logger.warn({ err: error }, 'NATS drain failed; closing');
      await nc.close().catch(() => undefined);
    }
  }
}
