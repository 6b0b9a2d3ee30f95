import 'reflect-metadata';

import { randomBytes, randomUUID } from 'node:crypto';

import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';

import { DeliveriesSeen, type CloudEvent, type DeliveriesSeenV1 } from '@testkase/contracts';
import { createTestEnvironment, eventually, type TestEnvironment } from '@testkase/testing';

import { fixture, gatewayEnv, GatewayHarness, postAnnouncing, type ConnectionSetup } from './gateway-harness';

const ISSUE = fixture('webhook-issue-open.json');

describe('webhook-gateway deliveries (real NATS and Postgres, gateway from dist)', () => {
  let environment: TestEnvironment;
  let gateway: GatewayHarness;

  beforeAll(async () => {
    environment = await createTestEnvironment('gateway');
    gateway = await GatewayHarness.start(
      gatewayEnv(environment, { DELIVERIES_SEEN_INTERVAL: '200ms', WEBHOOK_UNKNOWN_CONNECTION_TTL: '0' }),
    );
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    await environment?.dispose();
  });

  describe('a valid delivery', () => {
    it.each([
      ['Issue Hook', 'webhook-issue-open.json', 'issue'],
      ['Confidential Issue Hook', 'webhook-issue-open.json', 'issue'],
      ['Note Hook', 'webhook-note-issue.json', 'note'],
      ['Confidential Note Hook', 'real/webhook-confidential-note-issue-2023.json', 'note'],
      ['Issue Hook', 'real/webhook-work-item-task-open-2026.json', 'work_item'],
      ['Issue Hook', 'real/webhook-issue-open-null-description-2018.json', 'issue'],
    ])(
      '%s with %s lands on gitlab.events.<connection>.%s with the bytes GitLab sent',
      async (event, file, kind) => {
        const connection = await gateway.connect();
        const body = fixture(file);
        const headers = {
          'x-gitlab-event': event,
          'idempotency-key': randomUUID(),
          'x-gitlab-event-uuid': randomUUID(),
          'x-gitlab-webhook-uuid': randomUUID(),
        };

        const answer = await gateway.deliver(connection, body, headers);

        expect(answer).toEqual({ status: 202, text: '{"status":"published"}' });
        const [message, ...more] = await gateway.events(connection.connectionId);
        expect(more).toHaveLength(0);
        expect(message!.subject).toBe(`gitlab.events.${connection.connectionId}.${kind}`);
        expect(Buffer.from(message!.raw).equals(body)).toBe(true);
        expect(message!.headers).toMatchObject({
          'nats-msg-id': `${connection.connectionId}:${kind}:${headers['idempotency-key']}`,
          'idempotency-key': headers['idempotency-key'],
          'x-gitlab-event': event,
          'x-gitlab-event-uuid': headers['x-gitlab-event-uuid'],
          'x-gitlab-webhook-uuid': headers['x-gitlab-webhook-uuid'],
          'x-gitlab-instance': 'https://gitlab.example.com',
          'user-agent': 'GitLab/18.6.0',
        });
        expect(message!.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
        expect(Date.parse(message!.headers['x-received-at']!)).not.toBeNaN();
        expect(JSON.stringify(message!.headers)).not.toContain(connection.secret);
        expect(Object.keys(message!.headers)).not.toContain('x-gitlab-token');
      },
    );

    it('starts a new trace: the caller’s W3C trace context decides neither parent nor sampling', async () => {
      const connection = await gateway.connect();
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      expect((await gateway.deliver(connection, ISSUE, { traceparent })).status).toBe(202);
      const [message] = await gateway.events(connection.connectionId);
      const carried = message!.headers['traceparent'];
      expect(carried).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      expect(carried?.slice(3, 35)).not.toBe(traceparent.slice(3, 35));
    });

    it('is admitted for a connection the bucket does not have yet, after asking connection-service', async () => {
      const connection = await gateway.connect({ inBucket: false });
      expect((await gateway.deliver(connection, ISSUE)).status).toBe(202);
      expect(await gateway.events(connection.connectionId)).toHaveLength(1);
    });
  });

  describe('authentication', () => {
    it('answers every refusal with the same 401 and publishes nothing', async () => {
      const connection = await gateway.connect();
      const disconnected = await gateway.connect({ state: 'disconnected' });

      const answers = [
        await gateway.deliver({ ...connection, secret: 'wrong-secret' }, ISSUE),
        await gateway.deliver({ connectionId: connection.connectionId }, ISSUE),
        await gateway.deliver({ ...connection, secret: '' }, ISSUE),
        await gateway.deliver({ connectionId: randomUUID(), secret: connection.secret }, ISSUE),
        await gateway.deliver(disconnected, ISSUE),
        await gateway.deliver({ connectionId: 'not-a-uuid', secret: connection.secret }, ISSUE),
        await gateway.deliver(
          { connectionId: `${connection.connectionId}0`, secret: connection.secret },
          ISSUE,
        ),
        await gateway.deliver({ ...connection, secret: 'wrong-secret' }, ISSUE, {
          'x-gitlab-event': 'Push Hook',
        }),
      ];

      expect(answers.map((answer) => answer.status)).toEqual(Array(answers.length).fill(401));
      expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
      expect(JSON.parse(answers[0]!.text)).toEqual({
        error: { code: 'UNAUTHENTICATED', message: 'unknown connection or wrong webhook token' },
      });
      // A valid delivery after the refusals is the only message of either connection.
      expect((await gateway.deliver(connection, ISSUE)).status).toBe(202);
      expect(await gateway.events(connection.connectionId)).toHaveLength(1);
      expect(await gateway.events(disconnected.connectionId)).toHaveLength(0);
      expect(await gateway.deliveries('issue', 'unauthorized')).toBeGreaterThanOrEqual(6);
    });

    it('stops a connection within a second of the bucket saying it is disconnected', async () => {
      const connection = await gateway.connect();
      expect((await gateway.deliver(connection, ISSUE)).status).toBe(202);

      await gateway.putVerifier({ ...connection, state: 'disconnected' });
      await eventually(async () => expect((await gateway.deliver(connection, ISSUE)).status).toBe(401), {
        timeoutMs: 1_000,
        intervalMs: 20,
      });
      expect(await gateway.events(connection.connectionId)).toHaveLength(1);
    });

    it('stops a connection whose entry is deleted from the bucket', async () => {
      const connection = await gateway.connect();
      expect((await gateway.deliver(connection, ISSUE)).status).toBe(202);
      await gateway.forget(connection.connectionId);
      await eventually(async () => expect((await gateway.deliver(connection, ISSUE)).status).toBe(401), {
        timeoutMs: 1_000,
        intervalMs: 20,
      });
    });
  });

  describe('signed hooks (Standard Webhooks)', () => {
    const signingToken = `whsec_${randomBytes(32).toString('base64')}`;
    let connection: ConnectionSetup;

    beforeAll(async () => {
      connection = await gateway.connect({ signingToken });
    });

    const signed = (body: Buffer, at = new Date(), token = signingToken) => {
      const id = randomUUID();
      return {
        'idempotency-key': id,
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(token).sign(id, at, body.toString('utf8')),
      };
    };

    it('admits a correct signature and keeps the signature headers off the message', async () => {
      expect((await gateway.deliver(connection, ISSUE, signed(ISSUE))).status).toBe(202);
      const [message] = await gateway.events(connection.connectionId);
      expect(Object.keys(message!.headers)).not.toEqual(expect.arrayContaining(['webhook-signature']));
    });

    it('stores a signed delivery replayed with another Idempotency-Key once: webhook-id is the message id', async () => {
      const before = (await gateway.events(connection.connectionId)).length;
      const original = signed(ISSUE);
      const first = await gateway.deliver(connection, ISSUE, original);
      const replay = await gateway.deliver(connection, ISSUE, {
        ...original,
        'idempotency-key': randomUUID(),
      });
      expect([first.text, replay.text]).toEqual(['{"status":"published"}', '{"status":"duplicate"}']);
      const messages = await gateway.events(connection.connectionId);
      expect(messages).toHaveLength(before + 1);
      expect(messages.at(-1)!.headers['nats-msg-id']).toBe(
        `${connection.connectionId}:issue:${original['webhook-id']}`,
      );
    });

    it('refuses a wrong signature, a stale timestamp and a missing signature with the same 401', async () => {
      const before = (await gateway.events(connection.connectionId)).length;
      const wrongKey = `whsec_${randomBytes(32).toString('base64')}`;
      const answers = [
        await gateway.deliver(connection, ISSUE, signed(ISSUE, new Date(), wrongKey)),
        await gateway.deliver(connection, ISSUE, signed(Buffer.from('{"object_kind":"issue"}'))),
        await gateway.deliver(connection, ISSUE, signed(ISSUE, new Date(Date.now() - 10 * 60_000))),
        await gateway.deliver(connection, ISSUE),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401, 401]);
      expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
      expect(await gateway.events(connection.connectionId)).toHaveLength(before);
    });
  });

  describe('idempotency', () => {
    it('stores a delivery resent five times with the same Idempotency-Key once', async () => {
      const connection = await gateway.connect();
      const headers = { 'idempotency-key': randomUUID(), 'x-gitlab-event-uuid': randomUUID() };
      const answers = [];
      for (let attempt = 0; attempt < 5; attempt += 1)
        answers.push(await gateway.deliver(connection, ISSUE, headers));
      expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202]);
      expect(answers.slice(1).map((answer) => answer.text)).toEqual(Array(4).fill('{"status":"duplicate"}'));
      expect(await gateway.events(connection.connectionId)).toHaveLength(1);
    });

    it('dedupes by X-Gitlab-Event-UUID when GitLab (before 17.4) sends no Idempotency-Key', async () => {
      const connection = await gateway.connect();
      const headers = { 'idempotency-key': undefined, 'x-gitlab-event-uuid': randomUUID() };
      for (let attempt = 0; attempt < 3; attempt += 1) {
        expect((await gateway.deliver(connection, ISSUE, headers)).status).toBe(202);
      }
      const messages = await gateway.events(connection.connectionId);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.headers['nats-msg-id']).toMatch(
        new RegExp(`^${connection.connectionId}:issue:${headers['x-gitlab-event-uuid']}:[0-9a-f]{32}$`),
      );
    });

    it('keeps an Issue Hook and a Note Hook that share one X-Gitlab-Event-UUID (GitLab before 17.4) apart', async () => {
      const connection = await gateway.connect();
      const headers = { 'idempotency-key': undefined, 'x-gitlab-event-uuid': randomUUID() };
      const issue = await gateway.deliver(connection, ISSUE, headers);
      const note = await gateway.deliver(connection, fixture('webhook-note-issue.json'), {
        ...headers,
        'x-gitlab-event': 'Note Hook',
      });
      expect([issue.text, note.text]).toEqual(['{"status":"published"}', '{"status":"published"}']);
      const messages = await gateway.events(connection.connectionId);
      expect(messages.map((message) => message.subject)).toEqual([
        `gitlab.events.${connection.connectionId}.issue`,
        `gitlab.events.${connection.connectionId}.note`,
      ]);
    });

    it('keeps two Issue Hooks of one GitLab request (shared X-Gitlab-Event-UUID, other bodies) apart', async () => {
      const connection = await gateway.connect();
      const headers = { 'idempotency-key': undefined, 'x-gitlab-event-uuid': randomUUID() };
      const closed = Buffer.from(ISSUE.toString('utf8').replace('"action": "open"', '"action": "close"'));
      expect(closed.equals(ISSUE)).toBe(false);
      expect((await gateway.deliver(connection, closed, headers)).text).toBe('{"status":"published"}');
      expect((await gateway.deliver(connection, ISSUE, headers)).text).toBe('{"status":"published"}');
      expect((await gateway.deliver(connection, ISSUE, headers)).text).toBe('{"status":"duplicate"}');
      expect(await gateway.events(connection.connectionId)).toHaveLength(2);
    });

    it('keeps deliveries of two connections with the same Idempotency-Key apart', async () => {
      const [first, second] = [await gateway.connect(), await gateway.connect()];
      const headers = { 'idempotency-key': randomUUID() };
      expect((await gateway.deliver(first, ISSUE, headers)).text).toBe('{"status":"published"}');
      expect((await gateway.deliver(second, ISSUE, headers)).text).toBe('{"status":"published"}');
      expect(await gateway.events(first.connectionId)).toHaveLength(1);
      expect(await gateway.events(second.connectionId)).toHaveLength(1);
    });

    it('dedupes by a hash of the body when GitLab sends neither', async () => {
      const connection = await gateway.connect();
      const headers = { 'idempotency-key': undefined, 'x-gitlab-event-uuid': undefined };
      for (let attempt = 0; attempt < 2; attempt += 1) {
        expect((await gateway.deliver(connection, ISSUE, headers)).status).toBe(202);
      }
      expect(await gateway.events(connection.connectionId)).toHaveLength(1);
    });
  });

  describe('what is not published', () => {
    it.each([
      ['Push Hook', 'push'],
      ['Merge Request Hook', 'merge_request'],
      ['Pipeline Hook', 'pipeline'],
    ])('answers a %s 200, counts it and publishes nothing', async (event, label) => {
      const connection = await gateway.connect();
      const before = await gateway.deliveries(label, 'ignored');
      const answer = await gateway.deliver(connection, '{"object_kind":"push"}', { 'x-gitlab-event': event });
      expect(answer).toEqual({ status: 200, text: '{"status":"ignored"}' });
      expect(await gateway.deliveries(label, 'ignored')).toBe(before + 1);
      expect(await gateway.events(connection.connectionId)).toHaveLength(0);
    });

    it('refuses a body over 25 MiB with 413 from its Content-Length', async () => {
      const connection = await gateway.connect();
      const answer = await postAnnouncing(
        `${gateway.app.url}/webhooks/gitlab/${connection.connectionId}`,
        26 * 1024 * 1024,
        {
          'content-type': 'application/json',
          'x-gitlab-token': connection.secret,
          'x-gitlab-event': 'Issue Hook',
        },
      );
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
      expect(await gateway.deliveries('issue', 'rejected')).toBeGreaterThanOrEqual(1);
      expect(await gateway.events(connection.connectionId)).toHaveLength(0);
    });

    it('accepts 25 MiB, and parks in the spool a delivery too large for the NATS server', async () => {
      const connection = await gateway.connect();
      const body = Buffer.alloc(25 * 1024 * 1024, 0x20);
      body.write('{"object_kind":"issue","padding":"', 0);
      body.write('"}', body.length - 2);
      const answer = await gateway.deliver(connection, body);
      // The local NATS server keeps its default max_payload (1 MiB).
      expect(answer).toEqual({ status: 202, text: '{"status":"parked"}' });
      const database = new Client({ connectionString: environment.databaseUrl });
      await database.connect();
      try {
        const { rows } = await database.query<{ bytes: number; parked: boolean; subject: string }>(
          'SELECT length(body) AS bytes, parked_at IS NOT NULL AS parked, subject FROM gateway.spool WHERE subject LIKE $1',
          [`%${connection.connectionId}%`],
        );
        expect(rows).toEqual([
          { bytes: body.length, parked: true, subject: `gitlab.events.${connection.connectionId}.issue` },
        ]);
      } finally {
        await database.end();
      }
    });

    it('refuses other content types with 415 and a body that is not JSON with 400', async () => {
      const connection = await gateway.connect();
      const form = await gateway.deliver(connection, 'object_kind=issue', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      const text = await gateway.deliver(connection, 'hello', { 'content-type': 'text/plain' });
      const notJson = await gateway.deliver(connection, 'object_kind=issue');
      const broken = await gateway.deliver(connection, '{"object_kind":"issue"', {});
      expect([form.status, text.status, notJson.status, broken.status]).toEqual([415, 415, 400, 400]);
      expect(JSON.parse(form.text)).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
      expect(JSON.parse(notJson.text)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
      expect(await gateway.events(connection.connectionId)).toHaveLength(0);
    });

    it('checks the token before reading the body: an unauthenticated oversized body gets 401', async () => {
      const answer = await postAnnouncing(
        `${gateway.app.url}/webhooks/gitlab/${randomUUID()}`,
        26 * 1024 * 1024,
        {
          'content-type': 'application/json',
          'x-gitlab-token': 'guess',
          'x-gitlab-event': 'Issue Hook',
        },
      );
      expect(answer.status).toBe(401);
    });
  });

  describe('deliveries seen', () => {
    it('publishes integration.webhook.deliveries_seen with the count per connection', async () => {
      const connection = await gateway.connect();
      await gateway.deliver(connection, ISSUE);
      await gateway.deliver(connection, ISSUE, { 'x-gitlab-event': 'Push Hook' });
      await gateway.deliver({ ...connection, secret: 'wrong' }, ISSUE);

      const events = await eventually(async () => {
        const seen = (
          await gateway.probe.read<CloudEvent<DeliveriesSeenV1>>('INTEGRATION', DeliveriesSeen.subject)
        )
          .map((message) => message.data)
          .filter((event) => event.data.connectionId === connection.connectionId);
        expect(seen.reduce((sum, event) => sum + event.data.count, 0)).toBe(2);
        return seen;
      });
      expect(events[0]).toMatchObject({
        type: DeliveriesSeen.type,
        source: 'testkase-gitlab/webhook-gateway',
      });
      expect(Date.parse(events.at(-1)!.data.lastDeliveryAt)).not.toBeNaN();
    });
  });

  describe('operations', () => {
    it('is ready with NATS and Postgres up, and reports both', async () => {
      const readiness = await gateway.readiness();
      expect(readiness.status).toBe(200);
      expect(readiness.body.info?.dependencies).toMatchObject({ database: 'up', nats: 'up' });
    });

    it('exposes deliveries by event and outcome, the ack latency and the spool depth', async () => {
      const connection = await gateway.connect();
      await gateway.deliver(connection, ISSUE, { 'x-gitlab-event': 'Note Hook' });
      const metrics = await gateway.metrics();
      expect(metrics).toMatch(/^gateway_deliveries_total\{event="note",outcome="published"[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^gateway_publish_ack_seconds_count\{[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^gateway_spool_depth\{state="pending"[^}]*\} 0/m);
    });

    it('never writes a webhook token to its log', () => {
      expect(gateway.app.logs()).not.toMatch(/secret-[0-9a-f-]{36}|whsec_/);
    });
  });
});
