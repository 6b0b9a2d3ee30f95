import { eventually, TestStack } from '@testkase/testing';

import { ConnectionTestKit, gitlabUser, SIM_ACCESS, type SeededUser } from './helpers/connection-stack';

interface HookView {
  id: number | null;
  state: string;
  refusedDeliveries: number;
  lastRefusedAt: string | null;
  secretRenewedAt: string | null;
}

/**
 * Issue 11 with the real webhook gateway: a hook secret edited in GitLab's UI (every delivery then
 * fails with 401, and GitLab disables the hook) is noticed from the gateway's refusals, shown on the
 * connection, and repaired (new secret on GitLab, hook re-enabled); a reconnect renews the secret of
 * a hook that looks right; the previous secret stays accepted while a rotation is under way.
 */
describe('connection-service with the webhook gateway: refused deliveries and secret renewal', () => {
  let stack: TestStack;
  let kit: ConnectionTestKit;
  let bot: SeededUser;
  let reporter: SeededUser;
  const MANAGED = 'repair/app';
  const RECONNECT = 'repair/reconnect';
  const MANUAL = 'repair/manual';
  const CRASH = 'repair/crash';
  const EDITED_SECRET = 'edited-in-the-gitlab-ui';

  const view = async (projectId: string) => {
    const response = await kit.api('GET', `/v1/projects/${projectId}/connection`);
    expect(response.status).toBe(200);
    return response.body as unknown as { connectionId: string; status: string; hook: HookView };
  };

  /** What an admin does in Settings → Webhooks → Edit: a new secret token, the URL unchanged. */
  const editHookSecretOnGitlab = async (project: string, hookId: number, url: string) => {
    const response = await fetch(
      `${kit.simUrl}/api/v4/projects/${encodeURIComponent(project)}/hooks/${hookId}`,
      {
        method: 'PUT',
        headers: { 'private-token': bot.token, 'content-type': 'application/json' },
        body: JSON.stringify({ url, token: EDITED_SECRET }),
      },
    );
    expect(response.status).toBe(200);
  };

  const settled = (project: string, count: number) =>
    kit.sim.waitForDeliveries(
      { project },
      (all) => all.length >= count && all.every((delivery) => delivery.outcome !== 'pending'),
      { timeoutMs: 20_000 },
    );

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['webhook-gateway', 'connection-service'],
      label: 'cs_repair',
      env: {
        'connection-service': { HEALTH_CHECK_INTERVAL: '2s', GITLAB_REQUEST_TIMEOUT: '2s' },
        'webhook-gateway': { DELIVERIES_SEEN_INTERVAL: '300ms' },
      },
    });
    kit = await ConnectionTestKit.open(stack);
    await kit.sim.updateSettings({ autoDisableHooks: true });
    for (const path of [MANAGED, RECONNECT, MANUAL, CRASH]) await kit.sim.createProject({ path });
    bot = await gitlabUser(kit.sim, 'bot', { project: MANAGED, accessLevel: SIM_ACCESS.maintainer });
    await kit.sim.addMember({ project: RECONNECT, username: 'bot', accessLevel: SIM_ACCESS.maintainer });
    await kit.sim.addMember({ project: CRASH, username: 'bot', accessLevel: SIM_ACCESS.maintainer });
    reporter = await gitlabUser(kit.sim, 'reporter', { project: MANUAL, accessLevel: SIM_ACCESS.reporter });
  }, 120_000);

  afterAll(async () => {
    await kit?.close();
    await stack?.stop();
  }, 60_000);

  it('notices a secret edited in GitLab from the refused deliveries, renews it and re-enables the hook', async () => {
    const connected = await kit.connect('repair', { projectRef: MANAGED, token: bot.token });
    expect(connected.status).toBe(200);
    const { connectionId } = connected.body as { connectionId: string };
    const hook = (await view('repair')).hook;
    const before = (await kit.verifierEntry(connectionId))!.secretSha256;

    await editHookSecretOnGitlab(
      MANAGED,
      hook.id!,
      `${stack.url('webhook-gateway')}/webhooks/gitlab/${connectionId}`,
    );
    for (let i = 0; i < 5; i += 1)
      await kit.sim.createIssue(MANAGED, { as: 'bot', title: `after the edit ${i}` });
    const refused = await settled(MANAGED, 5);
    expect(refused.slice(0, 4).map((delivery) => delivery.responseStatus)).toEqual([401, 401, 401, 401]);

    // Repaired: the refusals are on the connection, GitLab has a new secret and the hook works again.
    const repaired = await eventually(
      async () => {
        const current = (await view('repair')).hook;
        expect(current.lastRefusedAt).not.toBeNull();
        expect(current.secretRenewedAt! > current.lastRefusedAt!).toBe(true);
        expect((await kit.sim.hook(hook.id!)).alertStatus).toBe('executable');
        return current;
      },
      { timeoutMs: 30_000 },
    );
    expect(repaired.refusedDeliveries).toBe(0);
    expect((await kit.verifierEntry(connectionId))!.secretSha256).not.toBe(before);

    const total = (await kit.sim.deliveries({ project: MANAGED })).length;
    await kit.sim.createIssue(MANAGED, { as: 'bot', title: 'after the repair' });
    const after = await settled(MANAGED, total + 1);
    expect(after.at(-1)!.responseStatus).toBe(202);
    expect((await view('repair')).status).toBe('active');
  }, 60_000);

  it('renews the secret on a reconnect even when the hook looks right, so an edited secret is repaired', async () => {
    const first = await kit.connect('renew', { projectRef: RECONNECT, token: bot.token });
    expect(first.status).toBe(200);
    const { connectionId } = first.body as { connectionId: string };
    const hook = (await view('renew')).hook;
    const before = (await kit.verifierEntry(connectionId))!.secretSha256;
    await editHookSecretOnGitlab(
      RECONNECT,
      hook.id!,
      `${stack.url('webhook-gateway')}/webhooks/gitlab/${connectionId}`,
    );

    const again = await kit.connect('renew', { projectRef: RECONNECT, token: bot.token });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ connectionId, hook: { id: hook.id } });
    const entry = (await kit.verifierEntry(connectionId))!;
    expect(entry.secretSha256).not.toBe(before);
    // The secret GitLab had until a moment ago stays accepted for the rotation's grace period.
    expect(entry).toMatchObject({ previousSecretSha256: before, previousUntil: expect.any(String) });

    await kit.sim.createIssue(RECONNECT, { as: 'bot', title: 'after the reconnect' });
    const [delivery] = await settled(RECONNECT, 1);
    expect(delivery!.responseStatus).toBe(202);
  }, 60_000);

  it('shows the refused deliveries of a manual hook on the connection', async () => {
    const connected = await kit.connect('manual', { projectRef: MANUAL, token: reporter.token });
    expect(connected.status).toBe(200);
    const { connectionId } = connected.body as { connectionId: string };
    const post = (secret: string) =>
      fetch(`${stack.url('webhook-gateway')}/webhooks/gitlab/${connectionId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Issue Hook',
          'x-gitlab-token': secret,
        },
        body: '{"object_kind":"issue"}',
      });
    for (let i = 0; i < 3; i += 1) expect((await post(EDITED_SECRET)).status).toBe(401);
    // Random connection ids are refused too, but never counted anywhere.
    expect(
      (
        await fetch(`${stack.url('webhook-gateway')}/webhooks/gitlab/${crypto.randomUUID()}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-gitlab-event': 'Issue Hook',
            'x-gitlab-token': 'x',
          },
          body: '{}',
        })
      ).status,
    ).toBe(401);

    await eventually(
      async () => {
        const current = (await view('manual')).hook;
        expect(current).toMatchObject({ refusedDeliveries: 3, lastRefusedAt: expect.any(String) });
      },
      { timeoutMs: 15_000 },
    );
  }, 60_000);

  it('completes a rotation that a crash interrupted after GitLab took the new secret', async () => {
    const connected = await kit.connect('crash', { projectRef: CRASH, token: bot.token });
    expect(connected.status).toBe(200);
    const { connectionId } = connected.body as { connectionId: string };
    const before = (await kit.verifierEntry(connectionId))!.secretSha256;
    const pendingRotations = async () =>
      Number(
        (
          await kit.db.query<{ n: string }>(
            'SELECT count(*) AS n FROM connection.hook_rotations WHERE connection_id = $1',
            [connectionId],
          )
        ).rows[0]!.n,
      );

    // GitLab applies the new secret but its answer is late; connection-service dies meanwhile.
    await kit.sim.clearApiRequests();
    await kit.sim.addFault({
      method: 'PUT',
      path: '/api/v4/projects/*/hooks/*',
      kind: 'latency',
      phase: 'after',
      latencyMs: 10_000,
      count: 1,
    });
    const reconnect = kit.connect('crash', { projectRef: CRASH, token: bot.token }).catch(() => undefined);
    await eventually(async () => expect(await kit.sim.apiRequests({ method: 'PUT' })).not.toHaveLength(0), {
      intervalMs: 20,
    });
    await stack.app('connection-service').kill();
    await reconnect;
    await kit.sim.clearFaults();
    expect(await pendingRotations()).toBe(1);
    expect((await kit.rows('crash'))[0]).toMatchObject({ hook_secret_sha256: before });

    await stack.startApp('connection-service');
    // GitLab sends the new secret now; the restarted service tells the gateway to accept it at once.
    await eventually(async () =>
      expect((await kit.verifierEntry(connectionId))!.previousSecretSha256).toBe(before),
    );
    await kit.sim.createIssue(CRASH, { as: 'bot', title: 'right after the restart' });
    const [first] = await settled(CRASH, 1);
    expect(first!.responseStatus).toBe(202);

    // The health job completes it: the connection records the secret GitLab has.
    await eventually(async () => expect(await pendingRotations()).toBe(0), { timeoutMs: 30_000 });
    const [row] = await kit.rows('crash');
    expect(row!['hook_secret_sha256']).not.toBe(before);
    expect((await kit.verifierEntry(connectionId))!.secretSha256).toBe(row!['hook_secret_sha256']);
    await kit.sim.createIssue(CRASH, { as: 'bot', title: 'after the completion' });
    const all = await settled(CRASH, 2);
    expect(all.map((delivery) => delivery.responseStatus)).toEqual([202, 202]);
  }, 90_000);
});
