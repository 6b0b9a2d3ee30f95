import { AckPolicy, connect, DeliverPolicy, type JsMsg, type NatsConnection } from 'nats';

import type { CloudEvent } from '@testkase/contracts';

export interface ReceivedMessage<T = unknown> {
  subject: string;
  data: T;
  raw: Uint8Array;
  headers: Record<string, string>;
  sequence: number;
}

/**
 * A test's view of NATS for one environment prefix: read what the apps published, as TestKase core
 * would (subjects are given without the prefix).
 */
export class NatsProbe {
  private constructor(
    readonly nc: NatsConnection,
    readonly prefix: string,
  ) {}

  static async connect(url: string, prefix: string): Promise<NatsProbe> {
    return new NatsProbe(await connect({ servers: url, name: 'test-probe' }), prefix);
  }

  subject(subject: string): string {
    return this.prefix ? `${this.prefix}.${subject}` : subject;
  }

  stream(name: string): string {
    return this.prefix ? `${this.prefix}_${name}` : name;
  }

  /** Every message currently stored in `stream` whose subject matches `filter` (without prefix). */
  async read<T = unknown>(stream: string, filter: string): Promise<Array<ReceivedMessage<T>>> {
    const jsm = await this.nc.jetstreamManager();
    const streamName = this.stream(stream);
    const info = await jsm.streams.info(streamName).catch(() => null);
    if (!info) return [];
    const durable = `probe_${Math.random().toString(36).slice(2, 10)}`;
    await jsm.consumers.add(streamName, {
      durable_name: durable,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.subject(filter),
      inactive_threshold: 60_000_000_000,
    });
    const consumer = await this.nc.jetstream().consumers.get(streamName, durable);
    const out: Array<ReceivedMessage<T>> = [];
    try {
      for (
        let pending = (await consumer.info()).num_pending;
        pending > 0;
        pending = (await consumer.info()).num_pending
      ) {
        const batch = await consumer.fetch({ max_messages: Math.min(pending, 5_000), expires: 2_000 });
        for await (const message of batch) out.push(this.decode<T>(message));
      }
    } finally {
      await jsm.consumers.delete(streamName, durable).catch(() => undefined);
    }
    return out;
  }

  /** CloudEvents on TESTKASE_EVENTS / INTEGRATION whose subject matches `filter`. */
  async events<T = unknown>(
    stream: 'TESTKASE_EVENTS' | 'INTEGRATION',
    filter: string,
  ): Promise<Array<CloudEvent<T>>> {
    return (await this.read<CloudEvent<T>>(stream, filter)).map((message) => message.data);
  }

  /** Polls `read` until `predicate` holds for the list, or fails after `timeoutMs`. */
  async waitFor<T = unknown>(
    stream: string,
    filter: string,
    predicate: (messages: Array<ReceivedMessage<T>>) => boolean,
    timeoutMs = 15_000,
  ): Promise<Array<ReceivedMessage<T>>> {
    const deadline = Date.now() + timeoutMs;
    let last: Array<ReceivedMessage<T>> = [];
    while (Date.now() < deadline) {
      last = await this.read<T>(stream, filter);
      if (predicate(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting on ${stream} ${filter}; ${last.length} message(s) seen`);
  }

  private decode<T>(message: JsMsg): ReceivedMessage<T> {
    const headers: Record<string, string> = {};
    for (const [key, values] of message.headers ?? []) headers[key.toLowerCase()] = values[0] ?? '';
    const text = Buffer.from(message.data).toString('utf8');
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      // raw
    }
    const subject = this.prefix ? message.subject.slice(this.prefix.length + 1) : message.subject;
    return { subject, data: data as T, raw: message.data, headers, sequence: message.seq };
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
