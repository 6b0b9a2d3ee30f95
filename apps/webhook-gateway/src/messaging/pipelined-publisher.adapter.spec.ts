import { Writable } from 'node:stream';

import { Events, type Msg, type MsgHdrs } from 'nats';

import { createLogger, type NatsClient } from '@testkase/platform';

import {
  HOLD_MAX_BYTES,
  HOLD_MS,
  MessageHeaders,
  parsePubAck,
  PipelinedJetStreamPublisher,
  type PublishOutcome,
} from './pipelined-publisher.adapter';

const encode = (text: string) => new TextEncoder().encode(text);
const quietLogger = createLogger(
  { service: 'test', level: 'silent' },
  new Writable({ write: (_chunk, _encoding, done) => done() }),
);

interface Written {
  subject: string;
  reply: string;
  /** The encoded header block. */
  headers: string;
}

/** A NATS connection that records writes and lets the test answer them. */
class FakeConnection {
  readonly writes: Written[][] = [];
  private current?: Written[];
  private callback?: (error: null, message: Msg) => void;
  private statusPush?: (status: { type: string; data: string }) => void;
  info = { max_payload: 1024 * 1024 };

  subscribe(_subject: string, options: { callback: (error: null, message: Msg) => void }) {
    this.callback = options.callback;
    return {};
  }

  publish(subject: string, _data: Uint8Array, options: { reply: string; headers: MsgHdrs }) {
    // Writes made in one synchronous run are one socket write.
    if (!this.current) {
      this.current = [];
      this.writes.push(this.current);
      queueMicrotask(() => (this.current = undefined));
    }
    this.current.push({
      subject,
      reply: options.reply,
      headers: new TextDecoder().decode((options.headers as MessageHeaders).encode()),
    });
  }

  status(): AsyncIterable<{ type: string; data: string }> {
    const pending: Array<(value: IteratorResult<{ type: string; data: string }>) => void> = [];
    this.statusPush = (status) => pending.shift()?.({ value: status, done: false });
    return {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise((resolve) => pending.push(resolve)) }),
    };
  }

  ack(write: Written, text = '{"stream":"S", "seq":1}', headers?: MsgHdrs): void {
    this.callback?.(null, { subject: write.reply, data: encode(text), headers } as unknown as Msg);
  }

  disconnect(): void {
    this.statusPush?.({ type: Events.Disconnect, data: 'nats://x' });
  }

  get all(): Written[] {
    return this.writes.flat();
  }
}

function fakeNats(connection: FakeConnection) {
  const client = { isConnected: true, nc: connection, onConnected: (listener: () => void) => listener() };
  return client as typeof client & NatsClient;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const headers = () => new MessageHeaders({ 'Nats-Msg-Id': 'm', 'x-gitlab-event': 'Issue Hook' });

describe('PipelinedJetStreamPublisher', () => {
  let connection: FakeConnection;
  let nats: ReturnType<typeof fakeNats>;
  let publisher: PipelinedJetStreamPublisher;

  beforeEach(() => {
    connection = new FakeConnection();
    nats = fakeNats(connection);
    publisher = new PipelinedJetStreamPublisher(nats, 200, quietLogger);
    publisher.start();
  });

  afterEach(() => publisher.stop());

  const publish = (n = 0) => publisher.publishAsync(`s.${n}`, encode('{}'), headers());

  it('resolves once JetStream acknowledges, telling a stored message from a duplicate', async () => {
    const first = publish(1);
    const second = publish(2);
    await tick();
    const [a, b] = connection.all;
    connection.ack(b!, '{"stream":"S", "seq":1,"duplicate": true}');
    connection.ack(a!);
    await expect(first).resolves.toEqual({ ok: true, duplicate: false });
    await expect(second).resolves.toEqual({ ok: true, duplicate: true });
  });

  it('writes what one event-loop turn queued in one write, with the headers as built', async () => {
    const first = [publish(1), publish(2), publish(3)];
    await tick();
    expect(connection.writes.map((write) => write.map((item) => item.subject))).toEqual([
      ['s.1', 's.2', 's.3'],
    ]);
    expect(connection.all[0]!.headers).toBe(
      'NATS/1.0\r\nNats-Msg-Id: m\r\nx-gitlab-event: Issue Hook\r\n\r\n',
    );
    for (const write of connection.all) connection.ack(write);
    await expect(Promise.all(first)).resolves.toHaveLength(3);
  });

  it('holds publishes while the last write is unacknowledged, and writes them together after its last ack', async () => {
    // A hold far longer than the test, so that only the acks end it (HOLD_MS is 1 ms: a loaded
    // machine would end it by time between two ticks).
    publisher.stop();
    publisher = new PipelinedJetStreamPublisher(nats, 60_000, quietLogger, 60_000);
    publisher.start();
    const first = [publish(1), publish(2)];
    await tick();
    const held = [publish(3)];
    await tick();
    held.push(publish(4));
    await tick();
    // Nothing new is written while s.1 and s.2 wait for their acks.
    expect(connection.writes).toHaveLength(1);
    connection.ack(connection.all[1]!);
    await tick();
    expect(connection.writes).toHaveLength(1);
    connection.ack(connection.all[0]!);
    await tick();
    expect(connection.writes.map((write) => write.map((item) => item.subject))).toEqual([
      ['s.1', 's.2'],
      ['s.3', 's.4'],
    ]);
    for (const write of connection.writes[1]!) connection.ack(write);
    await expect(Promise.all([...first, ...held])).resolves.toHaveLength(4);
  });

  it('ends a hold after HOLD_MS when no ack comes, or once the held bodies reach HOLD_MAX_BYTES', async () => {
    const pending = [publish(1)];
    await tick();
    pending.push(publish(2));
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS + 20));
    expect(connection.writes.map((write) => write.map((item) => item.subject))).toEqual([['s.1'], ['s.2']]);
    const big = new Uint8Array(HOLD_MAX_BYTES / 2);
    pending.push(
      publisher.publishAsync('s.3', big, headers()),
      publisher.publishAsync('s.4', big, headers()),
    );
    await tick();
    expect(connection.writes.map((write) => write.map((item) => item.subject))).toEqual([
      ['s.1'],
      ['s.2'],
      ['s.3', 's.4'],
    ]);
    for (const write of connection.all) connection.ack(write);
    await expect(Promise.all(pending)).resolves.toHaveLength(4);
  });

  it('calls back exactly once per publish, whatever arrives', async () => {
    const outcomes: PublishOutcome[] = [];
    publisher.publish('s.1', encode('{}'), headers(), (outcome) => outcomes.push(outcome));
    await tick();
    const [write] = connection.all;
    connection.ack(write!);
    connection.ack(write!);
    connection.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(outcomes).toEqual([{ ok: true, duplicate: false }]);
  });

  it('reports a timeout when no ack comes, and ignores the late ack', async () => {
    const outcome = publish(1);
    await tick();
    await expect(outcome).resolves.toEqual({ ok: false, reason: 'timeout' });
    expect(() => connection.ack(connection.all[0]!)).not.toThrow();
  });

  it('fails at once while disconnected, and fails what is in flight when the connection drops', async () => {
    const inFlight = publish(1);
    await tick();
    connection.disconnect();
    await expect(inFlight).resolves.toEqual({ ok: false, reason: 'disconnected' });

    nats.isConnected = false;
    await expect(publish(2)).resolves.toEqual({ ok: false, reason: 'disconnected' });
    expect(connection.all).toHaveLength(1);
  });

  it('refuses a body over the server max_payload without writing it', async () => {
    connection.info = { max_payload: 10 };
    const outcome: PublishOutcome = await publisher.publishAsync(
      's',
      encode('{"a":"01234567890"}'),
      headers(),
    );
    expect(outcome).toMatchObject({ ok: false, reason: 'too_large' });
    expect(connection.all).toHaveLength(0);
  });
});

describe('MessageHeaders', () => {
  it('refuses a value with a line break, which would end the header block', () => {
    expect(() => new MessageHeaders({ a: 'x\r\nNats-Msg-Id: forged' })).toThrow(/line break/);
  });
});

describe('parsePubAck', () => {
  const message = (text: string, headers?: Partial<MsgHdrs>) =>
    ({ data: encode(text), headers }) as unknown as Pick<Msg, 'data' | 'headers'>;

  it.each([
    ['{"stream":"GITLAB_EVENTS","seq":7}', { ok: true, duplicate: false }],
    ['{"stream":"GITLAB_EVENTS", "seq":7,"duplicate": true}', { ok: true, duplicate: true }],
    ['{"stream":"GITLAB_EVENTS","seq":7,"duplicate":true}', { ok: true, duplicate: true }],
    [
      '{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}',
      { ok: false, reason: 'rejected', detail: 'maximum messages exceeded' },
    ],
  ])('reads %s', (text, expected) => {
    expect(parsePubAck(message(text))).toEqual(expected);
  });

  it('reads a status reply (no stream listens on the subject) as rejected', () => {
    expect(parsePubAck(message('', { hasError: true, status: '503' }))).toEqual({
      ok: false,
      reason: 'rejected',
      detail: '503',
    });
  });
});
