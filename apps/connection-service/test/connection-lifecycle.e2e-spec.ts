import { createHash } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import type { ConnectionConnectedV1, ConnectionStatusChangedV1 } from '@testkase/contracts';
import { eventually, TestStack } from '@testkase/testing';

import {
  ConnectionTestKit,
  dateInDays,
  gitlabUser,
  SIM_ACCESS,
  type SeededUser,
} from './helpers/connection-stack';
import { HookReceiver } from './helpers/hook-receiver';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

type View = {
  connectionId: string;
  status: string;
  mode: string;
  hook: { id: number | null; url: string; state: string; removal: { outcome: string } | null };
  token: { hint: string; userId: number; expiresAt: string | null };
  [key: string]: unknown;
};

/**
 * The life of a connection against the simulator, real Postgres and NATS: connect (managed and
 * manual), what GitLab ends up holding, the verifier the gateway reads, credentials over NATS,
 * health (auth failures, disabled and deleted hooks, expiring tokens, backfill progress), token
 * rotation, disconnect and reconnect — and no token anywhere it should not be.
 */
describe('connection-service: a connection from connect to reconnect', () => {
  let stack: TestStack;
  let kit: ConnectionTestKit;
  let receiver: HookReceiver;
  let bot: SeededUser;
  let bot2: SeededUser;
  let developer: SeededUser;
  let reporter: SeededUser;
  const WEB = 'acme/web';
  const API = 'acme/api';
  /** Every GitLab token this file hands to the service. */
  const secrets: string[] = [];
  /** Every webhook secret GitLab was given (seen in deliveries, or shown once in a manual answer). */
  const hookSecrets: string[] = [];
  let manualSecret = '';
  const seedUser = async (...args: Parameters<typeof gitlabUser>): Promise<SeededUser> => {
    const seeded = await gitlabUser(...args);
    secrets.push(seeded.token);
    return seeded;
  };

  /** A call to the simulator's REST API, as a GitLab user with their token. */
  const gitlab = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${kit.simUrl}/api/v4/${path}`, {
      method,
      headers: { 'private-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return {
      status: response.status,
      body: response.status === 204 ? null : ((await response.json()) as Record<string, unknown>),
    };
  };

  const hooksOf = async (project: string) =>
    (await kit.sim.state({ project })).hooks as Array<{
      id: number;
      url: string;
      events: Record<string, boolean>;
      enableSslVerification: boolean;
      tokenPresent: boolean;
    }>;

  const statusEvents = async (connectionId: string) =>
    (
      await kit.probe.events<ConnectionStatusChangedV1>(
        'TESTKASE_EVENTS',
        'testkase.connection.status_changed',
      )
    ).filter((event) => event.data.connectionId === connectionId);

  const connectedEvents = async (connectionId: string) =>
    (await kit.probe.events<ConnectionConnectedV1>('INTEGRATION', 'integration.connection.connected')).filter(
      (event) => event.data.connectionId === connectionId,
    );

  const view = async (projectId: string): Promise<View> => {
    const response = await kit.api<View>('GET', `/v1/projects/${projectId}/connection`);
    expect(response.status).toBe(200);
    return response.body;
  };

  /** Makes the simulator's user change an issue and returns the X-Gitlab-Token GitLab sent us. */
  const deliveredSecret = async (connectionId: string, project: string): Promise<string> => {
    const before = receiver.forConnection(connectionId).length;
    await kit.sim.createIssue(project, { as: 'bot', title: `probe ${Date.now()}` });
    return eventually(() => {
      const deliveries = receiver.forConnection(connectionId);
      expect(deliveries.length).toBeGreaterThan(before);
      const secret = String(deliveries[deliveries.length - 1]!.headers['x-gitlab-token']);
      hookSecrets.push(secret);
      return secret;
    });
  };

  beforeAll(async () => {
    receiver = await HookReceiver.start();
    stack = await TestStack.start({
      apps: ['connection-service'],
      label: 'cs_lifecycle',
      env: { 'connection-service': { PUBLIC_WEBHOOK_BASE_URL: receiver.url, HEALTH_CHECK_INTERVAL: '2s' } },
    });
    kit = await ConnectionTestKit.open(stack);
    await kit.sim.createProject({ path: WEB });
    await kit.sim.createProject({ path: API });
    bot = await seedUser(kit.sim, 'bot', { project: WEB, accessLevel: SIM_ACCESS.maintainer });
    await kit.sim.addMember({ project: API, username: 'bot', accessLevel: SIM_ACCESS.owner });
    bot2 = await seedUser(kit.sim, 'bot2', { project: WEB, accessLevel: SIM_ACCESS.maintainer });
    developer = await seedUser(kit.sim, 'developer', { project: WEB, accessLevel: SIM_ACCESS.developer });
    reporter = await seedUser(kit.sim, 'reporter', { project: API, accessLevel: SIM_ACCESS.reporter });
  }, 120_000);

  afterAll(async () => {
    await kit?.close();
    await stack?.stop();
    await receiver?.stop();
  }, 60_000);

  let webConnectionId: string;

  describe('managed (Maintainer)', () => {
    it('registers exactly our hook on GitLab: our URL, our four events, no push events, SSL verification on', async () => {
      const response = await kit.connect('alpha', { projectRef: WEB, token: bot.token });
      expect(response.status).toBe(200);
      const body = response.body as View;
      webConnectionId = body.connectionId;
      expect(body).toMatchObject({
        projectId: 'alpha',
        platform: 'gitlab',
        instanceUrl: kit.simUrl,
        gitlabProject: { path: WEB, webUrl: `${kit.simUrl}/${WEB}` },
        status: 'active',
        mode: 'webhook_managed',
        role: { name: 'Maintainer', accessLevel: 40 },
        token: { scopes: ['api'], expiresAt: null, username: 'bot' },
        hook: { url: `${receiver.url}/webhooks/gitlab/${webConnectionId}`, state: 'executable' },
        lastDeliveryAt: null,
        lastError: null,
      });
      expect(body.token.hint).toMatch(/^glpat-….{4}$/);
      expect(body).not.toHaveProperty('webhookSetup');

      const hooks = await hooksOf(WEB);
      expect(hooks).toHaveLength(1);
      expect(hooks[0]).toMatchObject({
        id: body.hook.id,
        url: body.hook.url,
        enableSslVerification: true,
        tokenPresent: true,
      });
      const enabled = Object.entries(hooks[0]!.events)
        .filter(([, on]) => on)
        .map(([flag]) => flag)
        .sort();
      expect(enabled).toEqual([
        'confidential_issues_events',
        'confidential_note_events',
        'issues_events',
        'note_events',
      ]);
    });

    it('gives GitLab the secret whose hash the gateway reads from the KV bucket, and stores only that hash', async () => {
      const verifier = await kit.verifierEntry(webConnectionId);
      expect(verifier).toMatchObject({
        connectionId: webConnectionId,
        projectId: 'alpha',
        state: 'active',
        signed: true,
      });
      const secret = await deliveredSecret(webConnectionId, WEB);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(sha256(secret)).toBe(verifier?.secretSha256);
      const [row] = await kit.rows('alpha');
      expect(row?.['hook_secret_sha256']).toBe(verifier?.secretSha256);
      expect(await kit.databaseText()).not.toContain(secret);

      // GitLab signs with the key the gateway is handed over request/reply (and nowhere else).
      const reply = await kit.webhookVerifier(webConnectionId);
      const signingKey = reply.ok ? reply.signingKey : undefined;
      expect(signingKey).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      hookSecrets.push(String(signingKey));
      const delivery = receiver.forConnection(webConnectionId).at(-1)!;
      expect(
        new Webhook(String(signingKey)).verify(delivery.body, delivery.headers as Record<string, string>),
      ).toMatchObject({ object_kind: 'issue' });
      expect(await kit.databaseText()).not.toContain(String(signingKey));
    });

    it('announces the connection: integration.connection.connected and a status event', async () => {
      const connected = await eventually(async () => {
        const events = await connectedEvents(webConnectionId);
        expect(events).toHaveLength(1);
        return events[0]!;
      });
      expect(connected.data).toMatchObject({
        projectId: 'alpha',
        projectPath: WEB,
        mode: 'webhook_managed',
        reconnect: false,
      });
      const statuses = await eventually(async () => {
        const events = await statusEvents(webConnectionId);
        expect(events.length).toBeGreaterThan(0);
        return events;
      });
      expect(statuses[0]!.data).toMatchObject({
        status: 'active',
        previousStatus: null,
        hook: { alertStatus: 'executable' },
      });
    });

    it('hands the decrypted token only to a credentials request, with the project and the token user', async () => {
      const credentials = await kit.credentials(webConnectionId);
      expect(credentials).toMatchObject({
        ok: true,
        credentials: {
          connectionId: webConnectionId,
          projectId: 'alpha',
          instanceUrl: kit.simUrl,
          projectWebUrl: `${kit.simUrl}/${WEB}`,
          token: bot.token,
          caCertificate: null,
        },
      });
      expect(await kit.webhookVerifier(webConnectionId)).toMatchObject({
        ok: true,
        verifier: { state: 'active' },
      });
      expect(await kit.credentials('not-a-uuid')).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      expect(await kit.credentials(crypto.randomUUID())).toMatchObject({
        ok: false,
        error: { code: 'NOT_CONNECTED' },
      });
    });

    it('is idempotent: connecting again to the same project keeps the connection and the hook', async () => {
      const before = await view('alpha');
      const again = await kit.connect('alpha', { projectRef: WEB, token: bot.token });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ connectionId: webConnectionId, hook: { id: before.hook.id } });
      expect(await hooksOf(WEB)).toHaveLength(1);
      expect(await kit.rows('alpha')).toHaveLength(1);
      await eventually(async () =>
        expect((await connectedEvents(webConnectionId)).map((e) => e.data.reconnect)).toEqual([false, true]),
      );
    });

    it('registers the hook again on a re-connect when someone deleted it in GitLab, with a new secret', async () => {
      const before = await view('alpha');
      const oldHash = (await kit.verifierEntry(webConnectionId))?.secretSha256;
      expect(
        (await gitlab('DELETE', `projects/${encodeURIComponent(WEB)}/hooks/${before.hook.id}`, bot.token))
          .status,
      ).toBe(204);
      const again = await kit.connect('alpha', { projectRef: WEB, token: bot.token });
      expect(again.status).toBe(200);
      const hooks = await hooksOf(WEB);
      expect(hooks).toHaveLength(1);
      expect((again.body as View).hook.id).toBe(hooks[0]!.id);
      const verifier = await kit.verifierEntry(webConnectionId);
      expect(verifier?.secretSha256).not.toBe(oldHash);
      expect(sha256(await deliveredSecret(webConnectionId, WEB))).toBe(verifier?.secretSha256);
    });

    it('emits integration.connection.resync_requested on POST …/resync (202)', async () => {
      const response = await kit.api<{ connectionId: string; eventId: string }>(
        'POST',
        '/v1/projects/alpha/connection/resync',
      );
      expect(response.status).toBe(202);
      expect(response.body.connectionId).toBe(webConnectionId);
      await eventually(async () => {
        const events = await kit.probe.events('INTEGRATION', 'integration.connection.resync_requested');
        expect(events.map((event) => event.id)).toContain(response.body.eventId);
        expect(events.find((event) => event.id === response.body.eventId)?.data).toMatchObject({
          connectionId: webConnectionId,
          projectId: 'alpha',
          scope: 'full',
        });
      });
    });
  });

  describe('another tenant', () => {
    it("never sees project alpha's connection or token through its own routes", async () => {
      for (const [method, route, body] of [
        ['GET', '', undefined],
        ['DELETE', '', undefined],
        ['POST', '/resync', undefined],
        ['PUT', '/token', { token: bot2.token }],
      ] as const) {
        const response = await kit.api(method, `/v1/projects/beta/connection${route}`, body);
        expect(response.status).toBe(404);
        expect(JSON.stringify(response.body)).not.toContain(webConnectionId);
      }
      const beta = await kit.connect('beta', { projectRef: API, token: bot.token });
      expect(beta.status).toBe(200);
      const betaView = beta.body as View;
      expect(betaView.connectionId).not.toBe(webConnectionId);
      expect((await view('alpha')).gitlabProject).toMatchObject({ path: WEB });
      expect(betaView.gitlabProject).toMatchObject({ path: API });
      expect((await kit.api('DELETE', '/v1/projects/beta/connection')).status).toBe(200);
      expect((await view('alpha')).status).toBe('active');
      expect(await hooksOf(WEB)).toHaveLength(1);
    });
  });

  describe('token rotation', () => {
    it('refuses a bad token and a token whose user cannot manage the hook, changing nothing', async () => {
      const bad = await kit.api('PUT', '/v1/projects/alpha/connection/token', {
        token: 'glpat-not-a-real-token-000',
      });
      expect(bad.status).toBe(422);
      expect(bad.body).toMatchObject({ error: { code: 'AUTH_FAILED' } });
      const weak = await kit.api('PUT', '/v1/projects/alpha/connection/token', { token: developer.token });
      expect(weak.status).toBe(422);
      expect(weak.body).toMatchObject({
        error: { code: 'INSUFFICIENT_ROLE', details: { role: 'Developer', requiredRole: 'Maintainer' } },
      });
      expect(await kit.credentials(webConnectionId)).toMatchObject({
        ok: true,
        credentials: { token: bot.token },
      });
    });

    it("swaps in another Maintainer's token at once; the hook and its secret stay", async () => {
      const before = await view('alpha');
      const hash = (await kit.verifierEntry(webConnectionId))?.secretSha256;
      const rotated = await kit.api<View>('PUT', '/v1/projects/alpha/connection/token', {
        token: bot2.token,
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body).toMatchObject({
        connectionId: webConnectionId,
        status: 'active',
        token: { username: 'bot2' },
        hook: { id: before.hook.id },
      });
      expect(rotated.body.token.userId).not.toBe(before.token.userId);
      expect(await kit.credentials(webConnectionId)).toMatchObject({
        ok: true,
        credentials: { token: bot2.token, tokenUserId: rotated.body.token.userId },
      });
      expect((await kit.verifierEntry(webConnectionId))?.secretSha256).toBe(hash);
      expect(sha256(await deliveredSecret(webConnectionId, WEB))).toBe(hash);
    });
  });

  describe('health', () => {
    it('turns auth_failed when another service reports a 401, and active again after a rotation', async () => {
      await kit.publishEvent('integration.connection.auth_failed', 'integration.connection.auth_failed.v1', {
        connectionId: webConnectionId,
        service: 'requirement-sync',
        detail: 'GET /projects/1/issues answered 401',
        occurredAt: new Date().toISOString(),
      });
      await eventually(async () => expect((await view('alpha')).status).toBe('auth_failed'));
      expect((await view('alpha')).lastError).toMatchObject({
        code: 'AUTH_FAILED',
        message: expect.stringContaining('requirement-sync'),
      });
      expect(
        (await kit.api('PUT', '/v1/projects/alpha/connection/token', { token: bot2.token })).status,
      ).toBe(200);
      expect((await view('alpha')).status).toBe('active');
      await eventually(async () => {
        const statuses = (await statusEvents(webConnectionId)).map((event) => event.data.status);
        expect(statuses.slice(-2)).toEqual(['auth_failed', 'active']);
      });
    });

    it('turns auth_failed by itself when GitLab answers its own check with 401 (token revoked)', async () => {
      const doomed = await seedUser(kit.sim, 'doomed', { project: WEB, accessLevel: SIM_ACCESS.maintainer });
      expect(
        (await kit.api('PUT', '/v1/projects/alpha/connection/token', { token: doomed.token })).status,
      ).toBe(200);
      await kit.sim.revokeToken({ token: doomed.token });
      await eventually(async () => expect((await view('alpha')).status).toBe('auth_failed'), {
        timeoutMs: 20_000,
      });
      expect((await view('alpha')).lastError).toMatchObject({ code: 'AUTH_FAILED' });
      expect((await kit.api('PUT', '/v1/projects/alpha/connection/token', { token: bot.token })).status).toBe(
        200,
      );
      expect((await view('alpha')).status).toBe('active');
    });

    it('reports a hook GitLab disabled (hook_disabled) and re-enables it', async () => {
      await kit.sim.updateSettings({ autoDisableHooks: true });
      receiver.status = 500;
      for (let i = 0; i < 5; i += 1) await kit.sim.createIssue(WEB, { as: 'bot', title: `failing ${i}` });
      await kit.sim.flushDeliveries();
      const hookId = (await view('alpha')).hook.id!;
      expect((await kit.sim.hook(hookId)).alertStatus).toBe('temporarily_disabled');
      receiver.status = 200;
      await eventually(
        async () => {
          const statuses = (await statusEvents(webConnectionId)).map((event) => event.data.status);
          expect(statuses.slice(-2)).toEqual(['hook_disabled', 'active']);
        },
        { timeoutMs: 20_000 },
      );
      const disabled = (await statusEvents(webConnectionId))
        .reverse()
        .find((event) => event.data.status === 'hook_disabled');
      expect(disabled?.data.hook).toMatchObject({ hookId, alertStatus: 'temporarily_disabled' });
      expect(disabled?.data.reason).toMatch(/disabled the webhook/);
      expect((await kit.sim.hook(hookId)).alertStatus).toBe('executable');
      expect((await view('alpha')).hook.state).toBe('executable');
    });

    it('creates the hook again when it was deleted in GitLab, and the gateway learns the new secret first', async () => {
      const before = await view('alpha');
      const oldHash = (await kit.verifierEntry(webConnectionId))?.secretSha256;
      await gitlab('DELETE', `projects/${encodeURIComponent(WEB)}/hooks/${before.hook.id}`, bot.token);
      const recreated = await eventually(
        async () => {
          const hooks = await hooksOf(WEB);
          expect(hooks).toHaveLength(1);
          return hooks[0]!;
        },
        { timeoutMs: 20_000 },
      );
      expect(recreated.url).toBe(before.hook.url);
      await eventually(async () => expect((await view('alpha')).hook.id).toBe(recreated.id));
      const hash = (await kit.verifierEntry(webConnectionId))?.secretSha256;
      expect(hash).not.toBe(oldHash);
      expect(sha256(await deliveredSecret(webConnectionId, WEB))).toBe(hash);
    });

    it('warns token_expiring when the token expires within 14 days', async () => {
      const expiring = await seedUser(kit.sim, 'expiring', {
        project: API,
        accessLevel: SIM_ACCESS.maintainer,
        expiresAt: dateInDays(7),
      });
      const response = await kit.connect('gamma', { projectRef: API, token: expiring.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'token_expiring', token: { expiresAt: dateInDays(7) } });
      expect(String(response.body['statusReason'])).toContain(dateInDays(7));
      const connectionId = String(response.body['connectionId']);
      await eventually(async () =>
        expect((await statusEvents(connectionId))[0]?.data).toMatchObject({
          status: 'token_expiring',
          tokenExpiresAt: `${dateInDays(7)}T00:00:00.000Z`,
        }),
      );
      expect((await kit.api('DELETE', '/v1/projects/gamma/connection')).status).toBe(200);
    });

    it('carries backfill progress in status events (throttled) and shows it on the connection', async () => {
      const startedAt = new Date().toISOString();
      const report = (state: string, imported: number) =>
        kit.publishEvent(
          'integration.requirement.backfill_progress',
          'integration.requirement.backfill_progress.v1',
          {
            connectionId: webConnectionId,
            projectId: 'alpha',
            state,
            imported,
            expected: 300,
            startedAt,
            finishedAt: state === 'completed' ? new Date().toISOString() : null,
          },
        );
      const backfillOfAlpha = async () => (await view('alpha')).backfill;
      // The service applies events concurrently; the reports go one after the other, as a backfill sends them.
      await report('running', 100);
      await eventually(async () => expect(await backfillOfAlpha()).toMatchObject({ imported: 100 }));
      await report('running', 200);
      await eventually(async () =>
        expect((await view('alpha')).backfill).toMatchObject({
          state: 'running',
          imported: 200,
          expected: 300,
        }),
      );
      await report('completed', 300);
      await eventually(async () =>
        expect((await view('alpha')).backfill).toMatchObject({ state: 'completed', imported: 300 }),
      );
      const withBackfill = (await statusEvents(webConnectionId)).filter(
        (event) => event.data.backfill?.startedAt === startedAt,
      );
      // The first report and the completion always go out; the middle one falls inside the throttle window.
      expect(
        withBackfill.map((event) => [event.data.backfill?.state, event.data.backfill?.imported]),
      ).toEqual([
        ['running', 100],
        ['completed', 300],
      ]);
      expect(withBackfill.every((event) => event.data.status === 'active')).toBe(true);
    });
  });

  describe('manual (Reporter)', () => {
    let manualId: string;
    let secret: string;

    it('answers with the hook URL, the secret (once) and the events to tick; GitLab gets no hook from us', async () => {
      const response = await kit.connect('delta', { projectRef: API, token: reporter.token });
      expect(response.status).toBe(200);
      const body = response.body as View & {
        webhookSetup: {
          url: string;
          secret: string;
          events: Array<{ flag: string; label: string }>;
          enableSslVerification: boolean;
        };
      };
      manualId = body.connectionId;
      expect(body).toMatchObject({
        mode: 'webhook_manual',
        status: 'awaiting_first_delivery',
        // Until the admin's hook delivers, requirement-sync polls GitLab (docs/ARCHITECTURE.md).
        hook: { id: null, state: 'polling' },
      });
      expect(body.webhookSetup).toMatchObject({
        url: `${receiver.url}/webhooks/gitlab/${manualId}`,
        enableSslVerification: true,
      });
      expect(body.webhookSetup.events.map((event) => event.label)).toEqual([
        'Issues events',
        'Confidential issues events',
        'Comments',
        'Confidential comments',
      ]);
      secret = body.webhookSetup.secret;
      manualSecret = secret;
      expect(sha256(secret)).toBe((await kit.verifierEntry(manualId))?.secretSha256);
      expect((await hooksOf(API)).filter((hook) => hook.url.includes(manualId))).toEqual([]);
      expect(JSON.stringify((await kit.api('GET', '/v1/projects/delta/connection')).body)).not.toContain(
        secret,
      );
    });

    it('becomes active when the first delivery is seen', async () => {
      // The project's admin adds the hook by hand, as the answer said.
      const created = await gitlab('POST', `projects/${encodeURIComponent(API)}/hooks`, bot.token, {
        url: `${receiver.url}/webhooks/gitlab/${manualId}`,
        token: secret,
        issues_events: true,
        confidential_issues_events: true,
        note_events: true,
        confidential_note_events: true,
        push_events: false,
      });
      expect(created.status).toBe(201);
      expect(await deliveredSecret(manualId, API)).toBe(secret);
      const seenAt = new Date().toISOString();
      await kit.publishEvent(
        'integration.webhook.deliveries_seen',
        'integration.webhook.deliveries_seen.v1',
        { connectionId: manualId, lastDeliveryAt: seenAt, count: 1 },
      );
      await eventually(async () =>
        expect(await view('delta')).toMatchObject({
          status: 'active',
          lastDeliveryAt: seenAt,
          hook: { state: 'manual' },
        }),
      );
      await eventually(async () =>
        expect((await statusEvents(manualId)).map((event) => event.data.status)).toEqual([
          'awaiting_first_delivery',
          'active',
        ]),
      );
    });

    it('keeps the working secret on a re-connect, and leaves the hook to the admin on disconnect', async () => {
      const again = await kit.connect('delta', { projectRef: API, token: reporter.token });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({
        connectionId: manualId,
        status: 'active',
        webhookSetup: { url: `${receiver.url}/webhooks/gitlab/${manualId}` },
      });
      expect(again.body['webhookSetup']).not.toHaveProperty('secret');
      expect((await kit.verifierEntry(manualId))?.secretSha256).toBe(sha256(secret));
      const gone = await kit.api<View>('DELETE', '/v1/projects/delta/connection');
      expect(gone.status).toBe(200);
      expect(gone.body.hook.removal).toMatchObject({ outcome: 'manual' });
      expect((await kit.verifierEntry(manualId))?.state).toBe('disconnected');
    });
  });

  describe('disconnect and reconnect', () => {
    it('stops deliveries (verifier disconnected), removes the hook, keeps the record, emits the events', async () => {
      const hookId = (await view('alpha')).hook.id;
      const response = await kit.api<View>('DELETE', '/v1/projects/alpha/connection');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        connectionId: webConnectionId,
        status: 'disconnected',
        hook: { id: hookId, removal: { outcome: 'removed' } },
      });
      expect(await hooksOf(WEB)).toEqual([]);
      expect(await kit.verifierEntry(webConnectionId)).toMatchObject({ state: 'disconnected' });
      expect(await kit.webhookVerifier(webConnectionId)).toMatchObject({
        ok: true,
        verifier: { state: 'disconnected' },
      });
      expect(await kit.credentials(webConnectionId)).toMatchObject({
        ok: false,
        error: { code: 'NOT_CONNECTED' },
      });
      expect((await kit.api('GET', '/v1/projects/alpha/connection')).status).toBe(404);
      const [row] = await kit.rows('alpha');
      expect(row).toMatchObject({
        id: webConnectionId,
        status: 'disconnected',
        token_ciphertext: null,
        token_key_id: null,
      });
      await eventually(async () => {
        const events = await kit.probe.events('INTEGRATION', 'integration.connection.disconnected');
        expect(events.map((event) => (event.data as { connectionId: string }).connectionId)).toContain(
          webConnectionId,
        );
        expect((await statusEvents(webConnectionId)).at(-1)?.data).toMatchObject({ status: 'disconnected' });
      });
    });

    it('records a hook removal that failed, and still disconnects', async () => {
      const response = await kit.connect('epsilon', { projectRef: API, token: bot.token });
      expect(response.status).toBe(200);
      await kit.sim.addFault({
        method: 'DELETE',
        path: '/api/v4/projects/*/hooks/*',
        kind: 'status',
        status: 500,
        count: 10,
      });
      try {
        const gone = await kit.api<View>('DELETE', '/v1/projects/epsilon/connection');
        expect(gone.status).toBe(200);
        expect(gone.body).toMatchObject({
          status: 'disconnected',
          hook: { removal: { outcome: 'failed', detail: expect.stringContaining('GITLAB_UNAVAILABLE') } },
        });
      } finally {
        await kit.sim.clearFaults();
      }
      expect((await kit.verifierEntry(String(response.body['connectionId'])))?.state).toBe('disconnected');
    });

    it('reconnects to the same project (same connection, reconnect: true) and then to another one', async () => {
      const again = await kit.connect('alpha', { projectRef: WEB, token: bot.token });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({
        connectionId: webConnectionId,
        status: 'active',
        lastDeliveryAt: null,
        hook: { removal: null },
      });
      expect(await hooksOf(WEB)).toHaveLength(1);
      expect(await kit.verifierEntry(webConnectionId)).toMatchObject({ state: 'active' });
      await eventually(async () =>
        expect((await connectedEvents(webConnectionId)).at(-1)?.data.reconnect).toBe(true),
      );

      expect((await kit.api('DELETE', '/v1/projects/alpha/connection')).status).toBe(200);
      const elsewhere = await kit.connect('alpha', { projectRef: API, token: bot.token });
      expect(elsewhere.status).toBe(200);
      const otherId = String(elsewhere.body['connectionId']);
      expect(otherId).not.toBe(webConnectionId);
      await eventually(async () => expect((await connectedEvents(otherId))[0]?.data.reconnect).toBe(false));
      expect(await kit.rows('alpha')).toHaveLength(2);
    });
  });

  it('never lets a token or a hook secret out: not in logs, answers, events or the database', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    expect(hookSecrets.length).toBeGreaterThanOrEqual(4);
    const answers = kit.responses.text();
    // The manual secret is shown exactly once: in the answer that created it.
    expect(answers.split(manualSecret)).toHaveLength(2);
    const haystacks = {
      logs: stack.allLogs(),
      responses: answers.replace(manualSecret, ''),
      events: await kit.natsText(),
      database: await kit.databaseText(),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of [...secrets, ...hookSecrets, manualSecret]) {
        expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
      }
    }
  });
});
