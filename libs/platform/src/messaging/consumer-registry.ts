import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import { JetStreamConsumer, type ConsumerOptions } from './consumer-runner';
import type { NatsClient } from './nats-client';

/**
 * Consumers an app declares (usually in `onModuleInit`); the platform starts them once NATS is up
 * and the streams exist, and stops them first at shutdown.
 */
export class ConsumerRegistry {
  private readonly consumers: JetStreamConsumer[] = [];
  private started = false;

  constructor(
    private readonly nats: NatsClient,
    private readonly logger: Logger,
    private readonly metrics: MetricsRegistry,
  ) {}

  /** The durable names of the consumers this app declared (whose dead letters are its own). */
  get durables(): string[] {
    return this.consumers.map((consumer) => consumer.durable);
  }

  register(options: ConsumerOptions): JetStreamConsumer {
    const consumer = new JetStreamConsumer(this.nats, options, this.logger, this.metrics);
    this.consumers.push(consumer);
    if (this.started) void this.startOne(consumer);
    return consumer;
  }

  async startAll(): Promise<void> {
    this.started = true;
    await Promise.all(this.consumers.map((consumer) => this.startOne(consumer)));
  }

  private async startOne(consumer: JetStreamConsumer): Promise<void> {
    await consumer.start();
    this.logger.info({ consumer: consumer.durable }, 'consumer started');
  }

  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop(graceMs)));
  }
}
