import { randomUUID } from 'node:crypto';

import { headers as natsHeaders } from 'nats';
import { Client } from 'pg';

import { HEADERS, type ResyncRequestedV1 } from '@testkase/contracts';
import {
  createSimProject,
  eventually,
  NatsProbe,
  TEST_CORE_API_TOKEN,
  TestStack,
  type SimProject,
} from '@testkase/testing';

import { RealProjectLink } from './support/project-link';
import { allRequirements, requirementOfIssue } from './support/requirements-api';

const ADMIN = 'admin-token-for-tests-5f2c9a';
const NEXT_ADMIN = 'admin-token-next-rotation-81b7';
const SERVICES = [
  'webhook-gateway',
  'connection-service',
  'requirement-sync',
  'defect-sync',
  'comment-relay',
] as const;

type Answer<T = Record<string, unknown>> = { status: number; body: T };
type DeadLetter = {
  sequence: number;
  consumer: string;
  originalSubject: string;
  originalMsgId: string | null;
  code: string;
  error: string;
  deadLetteredAt: string;
};

/**
 * Issue 12, the admin API (docs/ADMIN-API.md) against the running gateway, connection-service and
 * requirement-sync: its own token (never the core one), dead letters listed and replayed, parked
 * outbox rows, a forced resync, pause and resume of one connection (its webhook events held, the
 * other connection unaffected, everything caught up on resume), and hostile input.
 */
describe('admin API', () => {
  let stack: TestStack;
  let probe: NatsProbe;
  let db: Client;
  let link: RealProjectLink;
  let alpha: SimProject;
  let beta: SimProject;
  let alphaConnection: string;
  let betaConnection: string;

  const admin = async <T = Record<string, unknown>>(
    app: (typeof SERVICES)[number],
    method: string,
    route: string,
    options: { body?: unknown; token?: string | null; raw?: string } = {},
  ): Promise<Answer<T>> => {
    const token = options.token === undefined ? ADMIN : options.token;
    const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const response = await fetch(`${stack.url(app)}${route}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: payload,
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  const deadLetters = async (filter = '') =>
    (await admin<{ items: DeadLetter[] }>('requirement-sync', 'GET', `/admin/v1/dead-letters?${filter}`)).body
      .items;

  const pausedIn = async (schema: string, connectionId: string): Promise<boolean> =>
    (
      await db.query<{ paused: boolean }>(
        `SELECT paused_at IS NOT NULL AS paused FROM ${schema}.connections WHERE connection_id = $1`,
        [connectionId],
      )
    ).rows[0]?.paused ?? false;
  const pausedInRequirementSync = (connectionId: string) => pausedIn('requirement_sync', connectionId);
  const pausedEverywhere = async (connectionId: string) => [
    await pausedIn('requirement_sync', connectionId),
    await pausedIn('defect_sync', connectionId),
    await pausedIn('comment_relay', connectionId),
  ];

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: [...SERVICES],
      label: 'admin_api',
      env: {
        '*': { ADMIN_API_TOKEN: `${ADMIN},${NEXT_ADMIN}` },
        // Only a resync (or a webhook) brings a change: no sweep would find it within the test.
        'requirement-sync': { RECONCILE_INTERVAL: '1h', FULL_SWEEP_INTERVAL: '24h' },
      },
    });
    probe = await NatsProbe.connect(stack.environment.natsUrl, stack.environment.natsPrefix);
    db = new Client({ connectionString: stack.environment.databaseUrl });
    await db.connect();
    link = new RealProjectLink(stack);
    alpha = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 2 } });
    beta = await createSimProject(stack.url('gitlab-sim'), { issues: { count: 2 } });
    alphaConnection = await link.connect('admin-alpha', alpha);
    betaConnection = await link.connect('admin-beta', beta);
    await eventually(
      async () => {
        expect(await allRequirements(stack, 'admin-alpha')).toHaveLength(2);
        expect(await allRequirements(stack, 'admin-beta')).toHaveLength(2);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await probe?.close();
    await stack?.stop();
  }, 60_000);

  describe('its own token', () => {
    it.each(SERVICES)(
      '%s: no token, a wrong one or the core token is 401; each admin token opens it',
      async (app) => {
        for (const token of [null, 'wrong-token-0123456789', TEST_CORE_API_TOKEN, `${ADMIN}x`]) {
          const answer = await admin<{ error: { code: string } }>(app, 'GET', '/admin/v1/dead-letters', {
            token,
          });
          expect(answer.status).toBe(401);
          expect(answer.body.error.code).toBe('UNAUTHENTICATED');
        }
        for (const token of [ADMIN, NEXT_ADMIN]) {
          expect((await admin(app, 'GET', '/admin/v1/dead-letters', { token })).status).toBe(200);
          expect((await admin(app, 'GET', '/admin/v1/outbox/parked', { token })).status).toBe(200);
        }
      },
    );

    it('does not open the core API', async () => {
      const answer = await admin('requirement-sync', 'GET', '/v1/projects/admin-alpha/requirements', {
        token: ADMIN,
      });
      expect(answer.status).toBe(401);
    });

    it('changes nothing when refused', async () => {
      for (const token of [null, TEST_CORE_API_TOKEN]) {
        const answer = await admin(
          'connection-service',
          'POST',
          `/admin/v1/connections/${alphaConnection}/pause`,
          {
            token,
          },
        );
        expect(answer.status).toBe(401);
      }
      const view = await admin<{ paused: boolean }>(
        'connection-service',
        'GET',
        `/admin/v1/connections/${alphaConnection}`,
      );
      expect(view.body.paused).toBe(false);
    });

    it('does not exist without ADMIN_API_TOKEN (404)', async () => {
      const replica = await stack.startReplica('requirement-sync', { ADMIN_API_TOKEN: '' });
      const response = await fetch(`${replica.url}/admin/v1/dead-letters`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      await replica.stop('SIGTERM');
    }, 60_000);
  });

  describe('hostile input: a clear 4xx, nothing changed', () => {
    it.each([
      ['a malformed connection id', 'POST', '/admin/v1/connections/not-a-uuid/pause', undefined, 400],
      ['an unknown connection id', 'POST', `/admin/v1/connections/${randomUUID()}/resync`, undefined, 404],
      [
        'an unknown connection id to pause',
        'POST',
        `/admin/v1/connections/${randomUUID()}/pause`,
        undefined,
        404,
      ],
    ])('connection-service: %s', async (_case, method, route, body, status) => {
      const answer = await admin<{ error: { code: string } }>('connection-service', method, route, { body });
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(status === 400 ? 'VALIDATION_FAILED' : 'NOT_FOUND');
    });

    it.each([
      ['a malformed sequence', 'GET', '/admin/v1/dead-letters/abc', undefined, 400],
      ['a sequence that is no dead letter', 'POST', '/admin/v1/dead-letters/999999/replay', undefined, 404],
      [
        'another service’s consumer',
        'GET',
        '/admin/v1/dead-letters?consumer=defect-sync-issues',
        undefined,
        400,
      ],
      ['a limit out of range', 'GET', '/admin/v1/dead-letters?limit=100000', undefined, 400],
      ['a replay with neither filter nor all', 'POST', '/admin/v1/dead-letters/replay', {}, 400],
      [
        'a replay with an unknown field',
        'POST',
        '/admin/v1/dead-letters/replay',
        { all: true, drop: true },
        400,
      ],
      [
        'outbox ids that are not ids',
        'POST',
        '/admin/v1/outbox/parked/replay',
        { ids: ['1; DROP TABLE x'] },
        400,
      ],
      [
        'outbox ids and all at once',
        'POST',
        '/admin/v1/outbox/parked/replay',
        { ids: ['1'], all: true },
        400,
      ],
    ])('requirement-sync: %s', async (_case, method, route, body, status) => {
      const answer = await admin<{ error: { code: string } }>('requirement-sync', method, route, { body });
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(status === 400 ? 'VALIDATION_FAILED' : 'NOT_FOUND');
    });

    it('refuses an oversized body with 413', async () => {
      const answer = await admin<{ error: { code: string } }>(
        'requirement-sync',
        'POST',
        '/admin/v1/dead-letters/replay',
        {
          raw: JSON.stringify({ subject: 'x'.repeat(100 * 1024) }),
        },
      );
      expect(answer.status).toBe(413);
      expect(answer.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  it('forces a resync of one connection: a change no webhook told of is imported', async () => {
    // Bulk-seeded issues fire no webhook: only a sweep can find this one.
    const seeded = await alpha.sim.seedIssues(alpha.id, { count: 1, titleTemplate: 'Found by the resync' });
    const answer = await admin<{ connectionId: string; eventId: string }>(
      'connection-service',
      'POST',
      `/admin/v1/connections/${alphaConnection}/resync`,
    );
    expect(answer.status).toBe(202);
    expect(answer.body.connectionId).toBe(alphaConnection);
    const events = await probe.events<ResyncRequestedV1>(
      'INTEGRATION',
      'integration.connection.resync_requested',
    );
    expect(events.find((event) => event.id === answer.body.eventId)?.data).toMatchObject({
      connectionId: alphaConnection,
      scope: 'full',
    });
    await eventually(
      async () =>
        expect((await requirementOfIssue(stack, 'admin-alpha', seeded.firstIid))?.title).toBe(
          'Found by the resync',
        ),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    // The other connection was not swept.
    expect(await allRequirements(stack, 'admin-beta')).toHaveLength(2);
  }, 60_000);

  it('pauses one connection: its webhook events are held, not dead-lettered; resume catches up', async () => {
    const paused = await admin<{ paused: boolean; changed: boolean }>(
      'connection-service',
      'POST',
      `/admin/v1/connections/${alphaConnection}/pause`,
    );
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, changed: true });
    const again = await admin<{ changed: boolean }>(
      'connection-service',
      'POST',
      `/admin/v1/connections/${alphaConnection}/pause`,
    );
    expect(again.body.changed).toBe(false);
    await eventually(async () => expect(await pausedInRequirementSync(alphaConnection)).toBe(true), {
      timeoutMs: 15_000,
      intervalMs: 100,
    });

    await alpha.sim.updateIssue(alpha.id, 1, { as: alpha.developer, title: 'Edited while paused' });
    await beta.sim.updateIssue(beta.id, 1, { as: beta.developer, title: 'Edited next door' });
    await eventually(
      async () => expect((await requirementOfIssue(stack, 'admin-beta', 1))?.title).toBe('Edited next door'),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    // The paused connection's delivery reached the stream but changed nothing, several holds later.
    await probe.waitFor(
      'GITLAB_EVENTS',
      `gitlab.events.${alphaConnection}.issue`,
      (messages) => messages.length > 0,
    );
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect((await requirementOfIssue(stack, 'admin-alpha', 1))?.title).not.toBe('Edited while paused');
    expect(await deadLetters()).toEqual([]);

    const resumed = await admin<{ paused: boolean }>(
      'connection-service',
      'POST',
      `/admin/v1/connections/${alphaConnection}/resume`,
    );
    expect(resumed.status).toBe(200);
    expect(resumed.body.paused).toBe(false);
    await eventually(
      async () =>
        expect((await requirementOfIssue(stack, 'admin-alpha', 1))?.title).toBe('Edited while paused'),
      { timeoutMs: 45_000, intervalMs: 250 },
    );
    expect(await pausedInRequirementSync(alphaConnection)).toBe(false);
    expect(await deadLetters()).toEqual([]);
  }, 120_000);

  it('pauses defect pushes of a paused connection; resume pushes them', async () => {
    const pause = await admin('connection-service', 'POST', `/admin/v1/connections/${alphaConnection}/pause`);
    expect(pause.status).toBe(200);
    await eventually(
      async () => expect(await pausedEverywhere(alphaConnection)).toEqual([true, true, true]),
      {
        timeoutMs: 15_000,
        intervalMs: 100,
      },
    );
    const pushed = await stack.core<{ outcome: string; defect: { issue: unknown } }>(
      'defect-sync',
      'POST',
      '/v1/projects/admin-alpha/defects/d-paused/push',
      {
        title: 'Pushed while paused',
        description: 'Waits for the resume',
        descriptionFormat: 'markdown',
        priority: 'Major',
        status: 'Open',
        url: 'https://testkase.example.com/admin-alpha/defects/d-paused',
      },
    );
    // Accepted and queued, not written to GitLab.
    expect(pushed.status).toBe(202);
    expect(pushed.body.outcome).toBe('pending');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const waiting = await stack.core<{ issue: unknown }>(
      'defect-sync',
      'GET',
      '/v1/projects/admin-alpha/defects/d-paused',
    );
    expect(waiting.body.issue).toBeNull();

    await admin('connection-service', 'POST', `/admin/v1/connections/${alphaConnection}/resume`);
    await eventually(
      async () => {
        const defect = await stack.core<{ issue: { iid: number } | null }>(
          'defect-sync',
          'GET',
          '/v1/projects/admin-alpha/defects/d-paused',
        );
        expect(defect.body.issue?.iid).toEqual(expect.any(Number));
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(await pausedEverywhere(alphaConnection)).toEqual([false, false, false]);
  }, 90_000);

  it('lists dead letters with their reason and replays them to the original subject', async () => {
    // A delivery that names another GitLab project than the connection's: dead-lettered at once.
    const [delivered] = await probe.read<Record<string, unknown>>(
      'GITLAB_EVENTS',
      `gitlab.events.${betaConnection}.issue`,
    );
    expect(delivered).toBeDefined();
    const foreign = structuredClone(delivered!.data) as {
      project: { id: number };
      object_attributes: Record<string, unknown>;
    };
    foreign.project.id = 987_654;
    foreign.object_attributes['project_id'] = 987_654;
    const js = probe.nc.jetstream();
    const subject = probe.subject(`gitlab.events.${betaConnection}.issue`);
    for (const n of [1, 2]) {
      const h = natsHeaders();
      h.set(HEADERS.gitlabEvent, 'Issue Hook');
      await js.publish(subject, JSON.stringify(foreign), {
        msgID: `${betaConnection}:issue:hostile-${n}`,
        headers: h,
      });
    }
    const listed = await eventually(
      async () => {
        const items = await deadLetters('consumer=requirement-sync-issues');
        expect(items).toHaveLength(2);
        return items;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    // Consumed concurrently: the two may have been dead-lettered in either order.
    const target = listed.find((item) => item.originalMsgId === `${betaConnection}:issue:hostile-1`)!;
    expect(target).toMatchObject({
      consumer: 'requirement-sync-issues',
      originalSubject: `gitlab.events.${betaConnection}.issue`,
      originalMsgId: `${betaConnection}:issue:hostile-1`,
      code: 'VALIDATION_FAILED',
    });
    expect(target.error).toContain('987654');
    expect(Date.parse(target.deadLetteredAt)).toBeGreaterThan(Date.now() - 60_000);

    // Paging: one per page, the cursor leads to the second.
    const first = await admin<{ items: DeadLetter[]; nextCursor: string | null }>(
      'requirement-sync',
      'GET',
      '/admin/v1/dead-letters?limit=1',
    );
    expect(first.body.items.map((item) => item.sequence)).toEqual([listed[0]!.sequence]);
    const second = await admin<{ items: DeadLetter[] }>(
      'requirement-sync',
      'GET',
      `/admin/v1/dead-letters?limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((item) => item.sequence)).toEqual([listed[1]!.sequence]);
    // Not the gateway's: it has no consumer of them.
    expect(
      (await admin<{ items: DeadLetter[] }>('webhook-gateway', 'GET', '/admin/v1/dead-letters')).body.items,
    ).toEqual([]);

    const one = await admin<{ body: unknown; headers: Record<string, string> }>(
      'requirement-sync',
      'GET',
      `/admin/v1/dead-letters/${target.sequence}`,
    );
    expect(one.body.body).toMatchObject({ project: { id: 987_654 } });

    // Another service neither shows nor replays requirement-sync's dead letters.
    for (const [method, route] of [
      ['GET', `/admin/v1/dead-letters/${target.sequence}`],
      ['POST', `/admin/v1/dead-letters/${target.sequence}/replay`],
    ] as const) {
      const refused = await admin<{ error: { code: string } }>('defect-sync', method, route);
      expect(refused.status).toBe(404);
      expect(refused.body.error.code).toBe('NOT_FOUND');
    }
    expect((await deadLetters()).map((item) => item.sequence)).toContain(target.sequence);

    // Replay one: republished with a new id that names the original, removed from DEAD_LETTERS.
    const replayed = await admin<{ subject: string; msgId: string }>(
      'requirement-sync',
      'POST',
      `/admin/v1/dead-letters/${target.sequence}/replay`,
    );
    expect(replayed.status).toBe(200);
    expect(replayed.body.subject).toBe(`gitlab.events.${betaConnection}.issue`);
    expect(replayed.body.msgId).not.toBe(`${betaConnection}:issue:hostile-1`);
    const republished = (await probe.read('GITLAB_EVENTS', `gitlab.events.${betaConnection}.issue`)).find(
      (message) => message.headers['nats-msg-id'] === replayed.body.msgId,
    );
    expect(republished?.headers[HEADERS.replayedMsgId]).toBe(`${betaConnection}:issue:hostile-1`);
    expect((await admin('requirement-sync', 'GET', `/admin/v1/dead-letters/${target.sequence}`)).status).toBe(
      404,
    );
    // Still not a delivery of this connection's project: dead-lettered again, under its original id.
    await eventually(
      async () => {
        const items = await deadLetters();
        expect(items).toHaveLength(2);
        expect(
          items.filter((item) => item.originalMsgId === `${betaConnection}:issue:hostile-1`),
        ).toHaveLength(1);
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );

    // Replay all matching a filter: another code matches nothing; the right one takes both.
    const none = await admin<{ replayed: unknown[] }>(
      'requirement-sync',
      'POST',
      '/admin/v1/dead-letters/replay',
      {
        body: { code: 'INTERNAL' },
      },
    );
    expect(none.body.replayed).toEqual([]);
    const before = (await deadLetters()).map((item) => item.sequence);
    const all = await admin<{ replayed: Array<{ sequence: number }>; failed: unknown[] }>(
      'requirement-sync',
      'POST',
      '/admin/v1/dead-letters/replay',
      { body: { code: 'VALIDATION_FAILED', subject: `gitlab.events.${betaConnection}.*` } },
    );
    expect(all.status).toBe(200);
    expect(all.body.replayed.map((item) => item.sequence).sort()).toEqual([...before].sort());
    expect(all.body.failed).toEqual([]);
    await eventually(
      async () => {
        const items = await deadLetters();
        expect(items).toHaveLength(2);
        expect(items.every((item) => !before.includes(item.sequence))).toBe(true);
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    // The connections' data is untouched by the hostile payloads.
    expect(await allRequirements(stack, 'admin-beta')).toHaveLength(2);
  }, 90_000);

  it('lists and replays parked outbox rows', async () => {
    // A row the relay parked (as after MAX_PAYLOAD_EXCEEDED), with a real event to publish.
    const eventId = randomUUID();
    const event = {
      specversion: '1.0',
      id: eventId,
      source: 'testkase-gitlab/requirement-sync',
      type: 'integration.admin_test.parked.v1',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { connectionId: alphaConnection },
    };
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO requirement_sync.outbox (event_id, subject, payload, headers, parked_at, park_reason, attempts, last_error)
       VALUES ($1, 'integration.admin_test.parked', $2, $3, now(), 'MAX_PAYLOAD_EXCEEDED', 1, 'too large')
       RETURNING id`,
      [eventId, JSON.stringify(event), JSON.stringify({ 'ce-type': event.type, 'ce-id': eventId })],
    );
    const id = String(rows[0]!.id);
    const listed = await admin<{ items: Array<{ id: string; parkReason: string; eventId: string }> }>(
      'requirement-sync',
      'GET',
      '/admin/v1/outbox/parked',
    );
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id, eventId, parkReason: 'MAX_PAYLOAD_EXCEEDED' }),
    ]);
    const replayed = await admin<{ replayed: string[] }>(
      'requirement-sync',
      'POST',
      '/admin/v1/outbox/parked/replay',
      {
        body: { ids: [id] },
      },
    );
    expect(replayed.body.replayed).toEqual([id]);
    await probe.waitFor('INTEGRATION', 'integration.admin_test.parked', (messages) =>
      messages.some((message) => (message.data as { id?: string }).id === eventId),
    );
    expect(
      (await admin<{ items: unknown[] }>('requirement-sync', 'GET', '/admin/v1/outbox/parked')).body.items,
    ).toEqual([]);
  }, 60_000);

  it('never logs an admin token', () => {
    const logs = stack.allLogs();
    expect(logs).not.toContain(ADMIN);
    expect(logs).not.toContain(NEXT_ADMIN);
  });
});
