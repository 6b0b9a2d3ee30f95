import type { DataSource, EntityManager } from 'typeorm';

import {
  ConnectionConnected,
  ConnectionConnectedV1,
  ConnectionDisconnected,
  ConnectionDisconnectedV1,
  ConnectionPauseChanged,
  ConnectionPauseChangedV1,
  ResyncRequested,
  ResyncRequestedV1,
  STREAMS,
} from '@testkase/contracts';
import {
  cloudEventOf,
  validatedData,
  type ConsumerRegistry,
  type InboundMessage,
  type Inbox,
  type Logger,
} from '@testkase/platform';

import type { GitlabAccess } from '../gitlab/gitlab-access.service';
import type { ConnectedChange, ConnectionProjection } from './connection-projection';
import type { ConnectionRecord } from './connection.record';

/** The connection changes a consumer applies. */
export type ConnectionChangeKind = 'connected' | 'disconnected' | 'resync_requested' | 'pause_changed';

/** What a consumer does with its own data when a connection changes, inside the kit's transaction. */
export interface ConnectionLifecycleHooks<R extends ConnectionRecord = ConnectionRecord> {
  /**
   * The connection was recorded as connected (and `superseded` — other active connections of the
   * same TestKase project, whose `disconnected` was missed — as disconnected). Runs behind the
   * exclusive gates of all of them. Returns a summary for the log, or null for "nothing to say".
   */
  connected(
    tx: EntityManager,
    change: ConnectedChange<R> & { readonly event: ConnectionConnectedV1; readonly superseded: readonly R[] },
  ): Promise<Record<string, unknown> | null>;
  /** The connection was recorded as disconnected (behind its exclusive gate). */
  disconnected(
    tx: EntityManager,
    change: { readonly connection: R; readonly event: ConnectionDisconnectedV1 },
  ): Promise<Record<string, unknown> | null>;
  /** TestKase asked for a full reconciliation. */
  resyncRequested?(tx: EntityManager, event: ResyncRequestedV1): Promise<Record<string, unknown> | null>;
  /** After the commit of any of the above that applied (wake a scheduler, say). */
  afterCommit?(connectionId: string, event: ConnectionChangeKind): void;
}

/**
 * `integration.connection.*` from connection-service, one at a time in stream order, on the durable
 * consumer `<service>-connections`: each event is applied once (inbox) to the connection projection
 * and handed to the app's {@link ConnectionLifecycleHooks} in the same transaction. Other
 * connection events (auth_failed, …) are not for consumers and are acknowledged.
 */
export class ConnectionEventsConsumer {
  private hooks?: ConnectionLifecycleHooks;

  constructor(
    private readonly service: string,
    private readonly dataSource: DataSource,
    private readonly consumers: ConsumerRegistry,
    private readonly inbox: Inbox,
    private readonly connections: ConnectionProjection,
    private readonly access: GitlabAccess,
    private readonly logger: Logger,
  ) {}

  /** The durable consumer's name (also the inbox consumer of these events). */
  get durable(): string {
    return `${this.service}-connections`;
  }

  /** Starts consuming with the app's hooks (call once, from the app's onModuleInit). */
  register<R extends ConnectionRecord>(hooks: ConnectionLifecycleHooks<R>): void {
    if (this.hooks) throw new Error('connection lifecycle hooks are registered already');
    // The projection returns the app's full rows (SELECT *), so its own record type holds.
    this.hooks = hooks as unknown as ConnectionLifecycleHooks;
    this.consumers.register({
      stream: STREAMS.INTEGRATION.name,
      durable: this.durable,
      filterSubject: 'integration.connection.>',
      handler: (message) => this.handle(message),
      concurrency: 1,
      maxDeliver: 10,
    });
  }

  async handle(message: InboundMessage): Promise<void> {
    const hooks = this.hooks;
    if (!hooks) throw new Error('no connection lifecycle hooks registered');
    switch (message.subject) {
      case ConnectionConnected.subject: {
        const event = cloudEventOf(message);
        const data = await validatedData(ConnectionConnectedV1, event.data);
        await this.apply(event.id, data.connectionId, 'connected', async (tx) => {
          await this.connections.closeGate(tx, data.connectionId);
          const change = await this.connections.applyConnected(tx, data);
          if (!change.applied) return null;
          const at = new Date(data.connectedAt);
          const superseded: ConnectionRecord[] = [];
          for (const other of await this.connections.othersActiveForProject(
            tx,
            data.projectId,
            data.connectionId,
          )) {
            await this.connections.closeGate(tx, other.connection_id);
            await this.connections.markSuperseded(tx, other.connection_id, at);
            superseded.push(other);
          }
          return (await hooks.connected(tx, { ...change, event: data, superseded })) ?? {};
        });
        return;
      }
      case ConnectionDisconnected.subject: {
        const event = cloudEventOf(message);
        const data = await validatedData(ConnectionDisconnectedV1, event.data);
        await this.apply(event.id, data.connectionId, 'disconnected', async (tx) => {
          await this.connections.closeGate(tx, data.connectionId);
          const { connection, applied } = await this.connections.applyDisconnected(tx, data);
          if (!applied) return null;
          return (await hooks.disconnected(tx, { connection, event: data })) ?? {};
        });
        return;
      }
      case ResyncRequested.subject: {
        const event = cloudEventOf(message);
        const data = await validatedData(ResyncRequestedV1, event.data);
        if (!hooks.resyncRequested) return;
        const resync = hooks.resyncRequested.bind(hooks);
        await this.apply(event.id, data.connectionId, 'resync_requested', (tx) => resync(tx, data));
        return;
      }
      case ConnectionPauseChanged.subject: {
        // Paused: the app's jobs skip the connection and its webhook events are held; resumed: the
        // app wakes its jobs (afterCommit) and the held events come back (docs/ADMIN-API.md).
        const event = cloudEventOf(message);
        const data = await validatedData(ConnectionPauseChangedV1, event.data);
        await this.apply(event.id, data.connectionId, 'pause_changed', async (tx) =>
          (await this.connections.applyPauseChanged(tx, data)) ? { paused: data.paused } : null,
        );
        return;
      }
      default:
        return;
    }
  }

  /** One transaction with the inbox entry; after commit the cached GitLab client is dropped. */
  private async apply(
    eventId: string,
    connectionId: string,
    kind: ConnectionChangeKind,
    effect: (tx: EntityManager) => Promise<Record<string, unknown> | null>,
  ): Promise<void> {
    const summary = await this.dataSource.transaction(async (tx) => {
      if (!(await this.inbox.claim(tx, this.durable, eventId))) return null;
      return effect(tx);
    });
    if (kind === 'connected' || kind === 'disconnected') this.access.forget(connectionId);
    if (summary === null) return;
    this.logger.info({ connectionId, event: kind, ...summary }, `connection ${kind.replace('_', ' ')}`);
    this.hooks?.afterCommit?.(connectionId, kind);
  }
}
