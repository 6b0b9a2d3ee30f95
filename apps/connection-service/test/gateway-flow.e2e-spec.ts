import { randomBytes } from 'node:crypto';

import type { ConnectionStatusChangedV1 } from '@testkase/contracts';
import { eventually, TestStack } from '@testkase/testing';

import { ConnectionTestKit, gitlabUser, SIM_ACCESS, type SeededUser } from './helpers/connection-stack';

interface GitlabEventMessage {
  subject: string;
  data: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * Issue 4 end to end with the real webhook gateway: connection-service registers the hook and
 * publishes the verifier; GitLab (the simulator) delivers to the gateway; the events land on
 * JetStream. Needs apps/webhook-gateway (it reads the WEBHOOK_VERIFIERS contract).
 */
describe('connection-service with the webhook gateway: connect and receive', () => {
  let stack: TestStack;
  let kit: ConnectionTestKit;
  let bot: SeededUser;
  let bot2: SeededUser;
  let reporter: SeededUser;
  const PROJECT = 'flow/app';
  const MANUAL_PROJECT = 'flow/manual';
  const OLDER_PROJECT = 'flow/older';
  const secrets: string[] = [];
  const seedUser = async (...args: Parameters<typeof gitlabUser>): Promise<SeededUser> => {
    const seeded = await gitlabUser(...args);
    secrets.push(seeded.token);
    return seeded;
  };

  const gitlabEvents = async (connectionId: string) =>
    (await kit.probe.read<Record<string, unknown>>(
      'GITLAB_EVENTS',
      `gitlab.events.${connectionId}.>`,
    )) as GitlabEventMessage[];

  const postToGateway = (connectionId: string, secret: string, body: unknown) =>
    fetch(`${stack.url('webhook-gateway')}/webhooks/gitlab/${connectionId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-gitlab-event': 'Issue Hook',
        'x-gitlab-token': secret,
        'idempotency-key': crypto.randomUUID(),
      },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['webhook-gateway', 'connection-service'],
      label: 'cs_gateway',
      env: {
        'connection-service': { HEALTH_CHECK_INTERVAL: '2s' },
        'webhook-gateway': { DELIVERIES_SEEN_INTERVAL: '500ms' },
      },
    });
    kit = await ConnectionTestKit.open(stack);
    await kit.sim.createProject({ path: PROJECT });
    await kit.sim.createProject({ path: MANUAL_PROJECT });
    await kit.sim.createProject({ path: OLDER_PROJECT });
    bot = await seedUser(kit.sim, 'bot', { project: PROJECT, accessLevel: SIM_ACCESS.maintainer });
    await kit.sim.addMember({ project: MANUAL_PROJECT, username: 'bot', accessLevel: SIM_ACCESS.maintainer });
    await kit.sim.addMember({ project: OLDER_PROJECT, username: 'bot', accessLevel: SIM_ACCESS.maintainer });
    bot2 = await seedUser(kit.sim, 'bot2', { project: PROJECT, accessLevel: SIM_ACCESS.maintainer });
    reporter = await seedUser(kit.sim, 'reporter', {
      project: MANUAL_PROJECT,
      accessLevel: SIM_ACCESS.reporter,
    });
  }, 120_000);

  afterAll(async () => {
    await kit?.close();
    await stack?.stop();
  }, 60_000);

  let connectionId: string;

  it('registers the hook at the gateway; an issue edited in GitLab lands on JetStream with its original body', async () => {
    const response = await kit.connect('flow', { projectRef: PROJECT, token: bot.token });
    expect(response.status).toBe(200);
    connectionId = String(response.body['connectionId']);
    expect(response.body).toMatchObject({
      hook: { url: `${stack.url('webhook-gateway')}/webhooks/gitlab/${connectionId}` },
    });
    // This GitLab can sign: the hook gets a signing token, sealed in the database, never in clear.
    const [hook] = (await kit.sim.state({ project: PROJECT })).hooks;
    expect(hook).toMatchObject({ tokenPresent: true, signingTokenPresent: true });
    const [row] = await kit.rows('flow');
    expect(row).toMatchObject({ hook_signing_key_id: 'k1', hook_signing_ciphertext: expect.any(String) });
    expect(await kit.databaseText()).not.toContain('whsec_');
    await eventually(async () =>
      expect(await kit.verifierEntry(connectionId)).toMatchObject({ signed: true }),
    );
    const reply = await kit.webhookVerifier(connectionId);
    expect(reply).toMatchObject({ ok: true, signingKey: expect.stringMatching(/^whsec_/) });
    secrets.push(String(reply.ok && reply.signingKey)); // searched for in logs, events and the database

    const issue = await kit.sim.createIssue(PROJECT, { as: 'bot', title: 'First' });
    await kit.sim.updateIssue(PROJECT, issue.iid, {
      as: 'bot',
      title: 'First, edited',
      description: 'Now with a description',
    });
    const deliveries = await kit.sim.waitForDeliveries(
      { project: PROJECT },
      (all) => all.length >= 2 && all.every((d) => d.outcome !== 'pending'),
    );
    expect(deliveries.map((delivery) => delivery.responseStatus)).toEqual([202, 202]);

    const messages = await eventually(async () => {
      const all = await gitlabEvents(connectionId);
      expect(all).toHaveLength(2);
      return all;
    });
    expect(messages.map((message) => message.subject)).toEqual([
      `gitlab.events.${connectionId}.issue`,
      `gitlab.events.${connectionId}.issue`,
    ]);
    const edited = deliveries.find(
      (delivery) => (delivery.payload['object_attributes'] as { action?: string }).action === 'update',
    )!;
    const published = messages.find(
      (message) => message.headers['idempotency-key'] === edited.idempotencyKey,
    )!;
    expect(published.data).toEqual(edited.payload);
  });

  it('refuses a delivery with a wrong token (401) and publishes nothing', async () => {
    const before = (await gitlabEvents(connectionId)).length;
    const response = await postToGateway(connectionId, 'not-the-secret', { object_kind: 'issue' });
    expect(response.status).toBe(401);
    expect((await gitlabEvents(connectionId)).length).toBe(before);
  });

  it('checks the signature of every delivery: GitLab signs each one, and the gateway accepts it', async () => {
    await kit.sim.flushDeliveries();
    const deliveries = await kit.sim.deliveries({ project: PROJECT });
    expect(deliveries.length).toBeGreaterThan(0);
    for (const delivery of deliveries) {
      expect(delivery.requestHeaders['webhook-signature']).toMatch(/^v1,/);
      expect(delivery.responseStatus).toBe(202);
    }
  });

  it('loses no delivery while the token is rotated during a stream of edits', async () => {
    await kit.sim.flushDeliveries();
    const before = (await gitlabEvents(connectionId)).length;
    const issue = await kit.sim.createIssue(PROJECT, { as: 'bot', title: 'Busy issue' });
    const edits = 30;
    const editing = (async () => {
      for (let i = 0; i < edits; i += 1)
        await kit.sim.updateIssue(PROJECT, issue.iid, { as: 'bot', title: `Busy issue ${i}` });
    })();
    const rotations = (async () => {
      for (const token of [bot2.token, bot.token, bot2.token]) {
        const rotated = await kit.api('PUT', '/v1/projects/flow/connection/token', { token });
        expect(rotated.status).toBe(200);
      }
    })();
    await Promise.all([editing, rotations]);
    await kit.sim.flushDeliveries();
    const deliveries = (await kit.sim.deliveries({ project: PROJECT })).slice(-edits);
    expect(deliveries.filter((delivery) => delivery.responseStatus !== 202)).toEqual([]);
    await eventually(async () => expect((await gitlabEvents(connectionId)).length).toBe(before + edits + 1));
    expect(await kit.credentials(connectionId)).toMatchObject({
      ok: true,
      credentials: { token: bot2.token },
    });
  });

  it('turns a manual connection active once the gateway has seen its first delivery', async () => {
    const response = await kit.connect('flow-manual', { projectRef: MANUAL_PROJECT, token: reporter.token });
    expect(response.status).toBe(200);
    const manualId = String(response.body['connectionId']);
    const setup = response.body['webhookSetup'] as { url: string; secret: string };
    secrets.push(setup.secret);
    expect(response.body).toMatchObject({ status: 'awaiting_first_delivery' });
    // The project's admin adds the hook by hand, as the answer said.
    const created = await fetch(`${kit.simUrl}/api/v4/projects/${encodeURIComponent(MANUAL_PROJECT)}/hooks`, {
      method: 'POST',
      headers: { 'private-token': bot.token, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: setup.url,
        token: setup.secret,
        issues_events: true,
        note_events: true,
        push_events: false,
      }),
    });
    expect(created.status).toBe(201);
    await kit.sim.createIssue(MANUAL_PROJECT, { as: 'bot', title: 'Hello' });
    await eventually(async () => expect(await gitlabEvents(manualId)).toHaveLength(1));
    await eventually(async () => {
      const view = await kit.api('GET', '/v1/projects/flow-manual/connection');
      expect(view.body).toMatchObject({ status: 'active', lastDeliveryAt: expect.any(String) });
    });
    const statuses = (
      await kit.probe.events<ConnectionStatusChangedV1>(
        'TESTKASE_EVENTS',
        'testkase.connection.status_changed',
      )
    )
      .filter((event) => event.data.connectionId === manualId)
      .map((event) => event.data.status);
    expect(statuses).toEqual(['awaiting_first_delivery', 'active']);

    // Disconnect: the admin has not removed the hook yet, and its deliveries are refused within a second.
    expect((await kit.api('DELETE', '/v1/projects/flow-manual/connection')).status).toBe(200);
    const disconnectedAt = Date.now();
    await eventually(
      async () =>
        expect((await postToGateway(manualId, setup.secret, { object_kind: 'issue' })).status).toBe(401),
      {
        timeoutMs: 5_000,
      },
    );
    expect(Date.now() - disconnectedAt).toBeLessThan(5_000);
    await kit.sim.createIssue(MANUAL_PROJECT, { as: 'bot', title: 'After disconnect' });
    await kit.sim.flushDeliveries();
    const last = (await kit.sim.deliveries({ project: MANUAL_PROJECT })).at(-1);
    expect(last?.responseStatus).toBe(401);
    expect(await gitlabEvents(manualId)).toHaveLength(1);
  });

  it('on a GitLab that cannot sign, checks the token alone; signs from the next connect once it can', async () => {
    await kit.sim.updateSettings({ webhookSigningTokens: false });
    let olderId: string;
    try {
      const response = await kit.connect('flow-older', { projectRef: OLDER_PROJECT, token: bot.token });
      expect(response.status).toBe(200);
      olderId = String(response.body['connectionId']);
      expect(await kit.rows('flow-older')).toMatchObject([{ hook_signing_ciphertext: null }]);
      expect(await kit.verifierEntry(olderId)).toMatchObject({ signed: false });
      await kit.sim.createIssue(OLDER_PROJECT, { as: 'bot', title: 'Unsigned' });
      const [unsigned] = await kit.sim.waitForDeliveries({ project: OLDER_PROJECT }, (all) =>
        all.some((delivery) => delivery.outcome !== 'pending'),
      );
      expect(unsigned!.requestHeaders).not.toHaveProperty('webhook-signature');
      expect(unsigned!.responseStatus).toBe(202);
    } finally {
      await kit.sim.updateSettings({ webhookSigningTokens: true });
    }

    // GitLab was upgraded: connecting again gives the same hook new secrets, signed ones.
    const again = await kit.connect('flow-older', { projectRef: OLDER_PROJECT, token: bot.token });
    expect(again.status).toBe(200);
    expect(again.body['connectionId']).toBe(olderId);
    expect((await kit.sim.state({ project: OLDER_PROJECT })).hooks).toEqual([
      expect.objectContaining({ signingTokenPresent: true }),
    ]);
    await eventually(async () => expect(await kit.verifierEntry(olderId)).toMatchObject({ signed: true }));
    const since = Date.now();
    await kit.sim.createIssue(OLDER_PROJECT, { as: 'bot', title: 'Signed' });
    const [signed] = await kit.sim.waitForDeliveries({ project: OLDER_PROJECT, since }, (all) =>
      all.some((delivery) => delivery.outcome !== 'pending'),
    );
    expect(signed!.requestHeaders['webhook-signature']).toMatch(/^v1,/);
    expect(signed!.responseStatus).toBe(202);
    expect((await kit.api('DELETE', '/v1/projects/flow-older/connection')).status).toBe(200);
    expect(await kit.rows('flow-older')).toMatchObject([
      { hook_signing_key_id: null, hook_signing_ciphertext: null },
    ]);
  });

  it('refuses what GitLab signs with a key that is not ours, though the token is right', async () => {
    const [hook] = (await kit.sim.state({ project: PROJECT })).hooks;
    const foreignKey = `whsec_${randomBytes(32).toString('base64')}`;
    secrets.push(foreignKey);
    const changed = await fetch(
      `${kit.simUrl}/api/v4/projects/${encodeURIComponent(PROJECT)}/hooks/${String(hook!.id)}`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'private-token': bot.token },
        body: JSON.stringify({ url: hook!.url, signing_token: foreignKey }),
      },
    );
    expect(changed.status).toBe(200);
    const before = (await gitlabEvents(connectionId)).length;
    const since = Date.now();
    await kit.sim.createIssue(PROJECT, { as: 'bot', title: 'Forged?' });
    const [refused] = await kit.sim.waitForDeliveries({ project: PROJECT, since }, (all) =>
      all.some((delivery) => delivery.outcome !== 'pending'),
    );
    expect(refused!.responseStatus).toBe(401);
    expect((await gitlabEvents(connectionId)).length).toBe(before);
  });

  it('disconnect removes the managed hook; GitLab sends nothing more', async () => {
    const response = await kit.api('DELETE', '/v1/projects/flow/connection');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ hook: { removal: { outcome: 'removed' } } });
    expect((await kit.sim.state({ project: PROJECT })).hooks).toEqual([]);
    const before = (await kit.sim.deliveries({ project: PROJECT })).length;
    await kit.sim.createIssue(PROJECT, { as: 'bot', title: 'Nobody listens' });
    await kit.sim.flushDeliveries();
    expect((await kit.sim.deliveries({ project: PROJECT })).length).toBe(before);
  });

  it('never lets a token or a secret out, across both services', async () => {
    const haystacks = {
      logs: stack.allLogs(),
      events: await kit.natsText(),
      database: await kit.databaseText(),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets)
        expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
    }
  });
});
