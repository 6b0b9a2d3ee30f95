import { randomUUID } from 'node:crypto';

import { connect, JSONCodec, type NatsConnection, type Subscription } from 'nats';

import {
  ConnectionConnected,
  ConnectionDisconnected,
  ResyncRequested,
  RPC,
  type ConnectionConnectedV1,
  type ConnectionCredentials,
  type CredentialsReply,
  type EventDefinition,
} from '@testkase/contracts';

const codec = JSONCodec<unknown>();

/**
 * Stands in for connection-service in requirement-sync's own integration tests: answers
 * `rpc.connection.credentials` and publishes connection events to INTEGRATION as it would
 * (CloudEvents, the event id as Nats-Msg-Id). The end-to-end specs use the real service.
 */
export class FakeConnectionService {
  private readonly credentials = new Map<string, ConnectionCredentials>();
  private subscription?: Subscription;
  /** Credentials requests seen, by connection id. */
  readonly requests: string[] = [];

  private constructor(
    readonly nc: NatsConnection,
    readonly prefix: string,
  ) {}

  static async start(natsUrl: string, prefix: string): Promise<FakeConnectionService> {
    const service = new FakeConnectionService(
      await connect({ servers: natsUrl, name: 'fake-connection-service' }),
      prefix,
    );
    service.subscription = service.nc.subscribe(service.subject(RPC.connectionCredentials), {
      callback: (_error, message) => {
        const { connectionId } = codec.decode(message.data) as { connectionId: string };
        service.requests.push(connectionId);
        const credentials = service.credentials.get(connectionId);
        const reply: CredentialsReply = credentials
          ? { ok: true, credentials }
          : { ok: false, error: { code: 'NOT_CONNECTED', message: 'no such connection' } };
        message.respond(codec.encode(reply));
      },
    });
    return service;
  }

  subject(subject: string): string {
    return this.prefix ? `${this.prefix}.${subject}` : subject;
  }

  setCredentials(credentials: ConnectionCredentials): void {
    this.credentials.set(credentials.connectionId, credentials);
  }

  removeCredentials(connectionId: string): void {
    this.credentials.delete(connectionId);
  }

  async publish<T>(definition: EventDefinition<T>, data: T, id: string = randomUUID()): Promise<string> {
    const event = {
      specversion: '1.0',
      id,
      source: 'testkase-gitlab/connection-service',
      type: definition.type,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
    };
    await this.nc.jetstream().publish(this.subject(definition.subject), codec.encode(event), { msgID: id });
    return id;
  }

  connected(data: ConnectionConnectedV1): Promise<string> {
    return this.publish(ConnectionConnected, data);
  }

  disconnected(data: {
    connectionId: string;
    projectId: string;
    instanceUrl: string;
    gitlabProjectId: number;
  }): Promise<string> {
    return this.publish(ConnectionDisconnected, { ...data, disconnectedAt: new Date().toISOString() });
  }

  resync(connectionId: string, projectId: string): Promise<string> {
    return this.publish(ResyncRequested, {
      connectionId,
      projectId,
      scope: 'full',
      requestedAt: new Date().toISOString(),
    });
  }

  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.nc.close();
  }
}
