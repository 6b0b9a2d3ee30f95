import { nanos } from 'nats';

import { KV_BUCKETS, STREAMS, type StreamDefinition } from '@testkase/contracts';

import {
  ensureKvBuckets,
  ensureStreams,
  kvOptionsOf,
  NatsClient,
  setupJetStream,
  verifyStreams,
  type JetStreamSettings,
} from '../src';
import { memoryLogger, NATS_URL, uniqueName } from './helpers';

const MIB = 1024 * 1024;
const HOUR = 60 * 60 * 1000;

/** JETSTREAM_* settings (docs/ARCHITECTURE.md, "JetStream settings") against the real NATS. */
describe('JetStream settings', () => {
  const { logger, lines } = memoryLogger();
  const prefix = uniqueName('t');
  let nats: NatsClient;
  const settings: JetStreamSettings = { replicas: 1, maxBytes: 8 * MIB, maxAgeMs: 2 * HOUR, manage: true };
  const definition: StreamDefinition = STREAMS.INTEGRATION;

  beforeAll(async () => {
    nats = new NatsClient({ servers: NATS_URL, name: 'platform-test', prefix }, logger);
    await nats.ready();
  });

  afterAll(async () => {
    for await (const stream of nats.jsm.streams.list()) {
      const name = stream.config.name;
      if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) {
        await nats.jsm.streams.delete(name).catch(() => undefined);
      }
    }
    await nats.close();
  });

  const info = (name: string) => nats.jsm.streams.info(nats.naming.stream(name));
  const kvInfo = (bucket: string) => nats.jsm.streams.info(`KV_${nats.naming.bucket(bucket)}`);

  it('creates a missing stream and bucket with the configured max_bytes, max_age and replicas', async () => {
    await ensureStreams(nats.jsm, nats.naming, [definition], settings, logger);
    const { config } = await info(definition.name);
    expect(config).toMatchObject({ num_replicas: 1, max_bytes: 8 * MIB, max_age: nanos(2 * HOUR) });
    expect(config.subjects).toEqual([nats.naming.subject('integration.>')]);

    await ensureKvBuckets(nats.js, nats.jsm, nats.naming, [KV_BUCKETS.webhookVerifiers], settings, logger);
    expect((await kvInfo(KV_BUCKETS.webhookVerifiers)).config).toMatchObject({
      num_replicas: 1,
      max_bytes: 8 * MIB,
      max_msgs_per_subject: 1,
    });
  });

  it('never resets what an operator changed at a start: adds missing subjects only, and warns', async () => {
    const name = nats.naming.stream(definition.name);
    const { config } = await info(definition.name);
    // The operator raises the limit and shortens the retention (`nats stream edit`).
    await nats.jsm.streams.update(name, { ...config, max_bytes: 64 * MIB, max_age: nanos(HOUR) });
    const kv = await kvInfo(KV_BUCKETS.webhookVerifiers);
    await nats.jsm.streams.update(kv.config.name, { ...kv.config, max_bytes: 32 * MIB });
    lines.length = 0;

    const extended: StreamDefinition = { ...definition, subjects: [...definition.subjects, 'extra.>'] };
    await ensureStreams(nats.jsm, nats.naming, [extended], settings, logger);
    await ensureKvBuckets(nats.js, nats.jsm, nats.naming, [KV_BUCKETS.webhookVerifiers], settings, logger);

    const after = (await info(definition.name)).config;
    expect(after).toMatchObject({ max_bytes: 64 * MIB, max_age: nanos(HOUR) });
    expect(after.subjects).toEqual([nats.naming.subject('integration.>'), nats.naming.subject('extra.>')]);
    expect((await kvInfo(KV_BUCKETS.webhookVerifiers)).config.max_bytes).toBe(32 * MIB);
    expect(lines.join('')).toContain('stream settings differ from JETSTREAM_*');
    expect(lines.join('')).toContain('KV bucket settings differ from JETSTREAM_*');
  });

  it('JETSTREAM_MANAGE=false: the app creates nothing and names what is missing', async () => {
    const missing = [STREAMS.GITLAB_EVENTS, STREAMS.DEAD_LETTERS];
    await expect(verifyStreams(nats.jsm, nats.naming, [definition, ...missing])).rejects.toThrow(
      `JetStream streams missing: ${nats.naming.stream('GITLAB_EVENTS')}, ${nats.naming.stream('DEAD_LETTERS')}`,
    );
    await expect(info(STREAMS.GITLAB_EVENTS.name)).rejects.toThrow(/stream not found/);
    expect(kvOptionsOf({ ...settings, manage: false })).toEqual({ bindOnly: true });
    await expect(verifyStreams(nats.jsm, nats.naming, [definition])).resolves.toBeUndefined();
  });

  it('setup-jetstream creates every stream and bucket and applies the operator settings', async () => {
    const production: JetStreamSettings = { replicas: 1, maxBytes: 16 * MIB, manage: false };
    await setupJetStream(nats.js, nats.jsm, nats.naming, production, logger);

    await expect(verifyStreams(nats.jsm, nats.naming, Object.values(STREAMS))).resolves.toBeUndefined();
    for (const stream of Object.values(STREAMS)) {
      // Each stream its own retention when JETSTREAM_MAX_AGE is unset; the configured limit on all.
      expect((await info(stream.name)).config).toMatchObject({
        max_bytes: 16 * MIB,
        max_age: nanos(stream.maxAgeMs),
      });
    }
    // The subject added meanwhile stays (setup only ever adds subjects).
    expect((await info(definition.name)).config.subjects).toContain(nats.naming.subject('extra.>'));
    expect((await kvInfo(KV_BUCKETS.webhookVerifiers)).config.max_bytes).toBe(16 * MIB);
    // A bucket bound only (JETSTREAM_MANAGE=false) is usable once setup has created it.
    const kv = await nats.js.views.kv(nats.naming.bucket(KV_BUCKETS.webhookVerifiers), { bindOnly: true });
    await kv.put('k', 'v');
    expect((await kv.get('k'))?.string()).toBe('v');
  });
});
