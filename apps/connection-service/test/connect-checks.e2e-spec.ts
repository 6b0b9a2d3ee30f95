import { startApp, TestStack, type RunningApp } from '@testkase/testing';

import { ConnectionTestKit, gitlabUser, SIM_ACCESS, type SeededUser } from './helpers/connection-stack';
import { announceBody, HookReceiver, startRedirector } from './helpers/hook-receiver';
import { generatePki, startTlsProxy, type Pki } from './helpers/tls-proxy';

/**
 * PUT …/connection: every check in the order of the issue, each failure made the way it happens
 * for real (in the simulator, or with a small local server), and nothing stored when one fails.
 */
describe('connection-service: the connection checks', () => {
  let stack: TestStack;
  let kit: ConnectionTestKit;
  let receiver: HookReceiver;
  let strict: RunningApp;
  let maintainer: SeededUser;
  const PROJECT = 'acme/platform/checkout';
  /** Every GitLab token this file hands to the service. */
  const secrets: string[] = [];
  const seedUser = async (...args: Parameters<typeof gitlabUser>): Promise<SeededUser> => {
    const seeded = await gitlabUser(...args);
    secrets.push(seeded.token);
    return seeded;
  };

  beforeAll(async () => {
    receiver = await HookReceiver.start();
    stack = await TestStack.start({
      apps: ['connection-service'],
      label: 'cs_checks',
      env: { 'connection-service': { PUBLIC_WEBHOOK_BASE_URL: receiver.url } },
    });
    kit = await ConnectionTestKit.open(stack);
    // The same service, configured as in production: no private or loopback instance addresses.
    strict = await startApp('connection-service', {
      env: {
        ...stack.envFor('connection-service'),
        PUBLIC_WEBHOOK_BASE_URL: receiver.url,
        GITLAB_ALLOW_PRIVATE_NETWORK: 'false',
      },
    });
    await kit.sim.createProject({ path: PROJECT });
    maintainer = await seedUser(kit.sim, 'maintainer', {
      project: PROJECT,
      accessLevel: SIM_ACCESS.maintainer,
    });
  }, 120_000);

  afterAll(async () => {
    await strict?.stop();
    await kit?.close();
    await stack?.stop();
    await receiver?.stop();
  }, 60_000);

  const expectError = (
    response: { status: number; body: unknown },
    status: number,
    code: string,
  ): { code: string; message: string; details?: Record<string, unknown> } => {
    const error = (
      response.body as { error: { code: string; message: string; details?: Record<string, unknown> } }
    ).error;
    expect({ status: response.status, code: error?.code }).toEqual({ status, code });
    expect(typeof error.message).toBe('string');
    return error;
  };

  const expectNothingStored = async (projectId: string) => {
    expect(await kit.rows(projectId)).toEqual([]);
    expectError(await kit.api('GET', `/v1/projects/${projectId}/connection`), 404, 'NOT_CONNECTED');
  };

  describe('1. the body', () => {
    it('requires the core API token before anything else', async () => {
      const response = await fetch(`${stack.url('connection-service')}/v1/projects/p/connection`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' },
        body: JSON.stringify({
          platform: 'gitlab',
          instanceUrl: kit.simUrl,
          projectRef: PROJECT,
          token: maintainer.token,
        }),
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
      await expectNothingStored('p');
    });

    it.each([
      [
        'an unknown field',
        { projectRef: PROJECT, token: 't0ken-value', admin: true },
        /property admin should not exist/,
      ],
      ['a missing token', { projectRef: PROJECT }, /token/],
      ['a token of the wrong type', { projectRef: PROJECT, token: 12345 }, /token must be a string/],
      ['a token over 512 characters', { projectRef: PROJECT, token: 'x'.repeat(513) }, /at most 512/],
      ['a token with spaces', { projectRef: PROJECT, token: 'glpat abc' }, /without spaces/],
      [
        'another platform',
        { platform: 'github', projectRef: PROJECT, token: 't0ken-value' },
        /platform must be "gitlab"/,
      ],
      [
        'a URL over 2,048 characters',
        {
          instanceUrl: `https://gitlab.example.com/${'a'.repeat(2_100)}`,
          projectRef: PROJECT,
          token: 't0ken-value',
        },
        /instanceUrl must be at most 2048/,
      ],
      [
        'a projectRef that is neither an id nor a path',
        { projectRef: '../etc/passwd', token: 't0ken-value' },
        /projectRef must be a numeric project id or a path/,
      ],
      ['a projectRef object', { projectRef: { id: 1 }, token: 't0ken-value' }, /projectRef must be a string/],
      [
        'a caCertificate that is not PEM',
        { projectRef: PROJECT, token: 't0ken-value', caCertificate: 'hello' },
        /PEM-encoded X.509/,
      ],
      [
        'a caCertificate over 64 KiB',
        {
          projectRef: PROJECT,
          token: 't0ken-value',
          caCertificate: `-----BEGIN CERTIFICATE-----\n${'A'.repeat(70_000)}`,
        },
        /at most 65536/,
      ],
    ])('refuses %s with VALIDATION_FAILED naming it', async (_case, body, message) => {
      const error = expectError(await kit.connect('body-check', body), 400, 'VALIDATION_FAILED');
      expect(error.message).toMatch(message);
      await expectNothingStored('body-check');
    });

    it('refuses a body that is not JSON, and a 10 MB body before reading it', async () => {
      const url = `${stack.url('connection-service')}/v1/projects/body-check/connection`;
      const headers = { authorization: `Bearer ${stack.coreToken}`, 'content-type': 'application/json' };
      const notJson = await fetch(url, { method: 'PUT', headers, body: '{"platform":' });
      expect(notJson.status).toBe(400);
      expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
      const huge = await announceBody(url, 'PUT', headers, 10 * 1024 * 1024);
      expect(huge.status).toBe(413);
      expect((JSON.parse(huge.body) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
      await expectNothingStored('body-check');
    });

    it('validates projectId: slashes, 1,000 characters and odd characters are refused', async () => {
      const body = {
        platform: 'gitlab',
        instanceUrl: kit.simUrl,
        projectRef: PROJECT,
        token: maintainer.token,
      };
      for (const projectId of [
        encodeURIComponent('a/b'),
        'p'.repeat(1_000),
        encodeURIComponent('proj ect'),
        encodeURIComponent('é'),
      ]) {
        const error = expectError(
          await kit.api('PUT', `/v1/projects/${projectId}/connection`, body),
          400,
          'VALIDATION_FAILED',
        );
        expect(error.message).toMatch(/projectId must be 1-128 characters/);
        expect(error.message).not.toContain('pppp');
      }
      // An unencoded slash is simply another route.
      expect((await kit.api('PUT', '/v1/projects/a/b/connection', body)).status).toBe(404);
      const { rows } = await kit.db.query('SELECT count(*)::int AS n FROM connection.connections');
      expect(rows[0]).toEqual({ n: 0 });
      expect((await kit.sim.state()).hooks).toEqual([]);
    });
  });

  describe('2. the instance URL', () => {
    const connectStrict = async (instanceUrl: string) =>
      kit.responses.record(
        await fetch(`${strict.url}/v1/projects/ssrf/connection`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${stack.coreToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            platform: 'gitlab',
            instanceUrl,
            projectRef: PROJECT,
            token: maintainer.token,
          }),
        }).then(async (response) => ({ status: response.status, body: (await response.json()) as unknown })),
      );

    it.each([
      ['the loopback address itself', (sim: string) => sim],
      [
        'a name that resolves to 127.0.0.1 (localhost)',
        (sim: string) => sim.replace('127.0.0.1', 'localhost'),
      ],
      ['an RFC 1918 address', () => 'http://10.1.2.3'],
      [
        'the IPv4-mapped IPv6 form of loopback',
        (sim: string) => sim.replace('127.0.0.1', '[::ffff:127.0.0.1]'),
      ],
      ['the metadata address', () => 'http://169.254.169.254'],
    ])('refuses %s with URL_NOT_ALLOWED when private networks are not allowed', async (_case, url) => {
      const error = expectError(await connectStrict(url(kit.simUrl)), 422, 'URL_NOT_ALLOWED');
      expect(error.message).toMatch(/resolves to a|non-routable|private/);
      await expectNothingStored('ssrf');
      expect((await kit.sim.deliveries()).length).toBe(0);
    });

    it.each([
      ['another scheme', 'ftp://gitlab.example.com', /http or https/],
      ['credentials in the URL', 'https://user:pass@gitlab.example.com', /credentials/],
      ['a query', 'https://gitlab.example.com/?x=1', /query or fragment/],
    ])('refuses %s with URL_NOT_ALLOWED', async (_case, url, message) => {
      const error = expectError(
        await kit.connect('ssrf', { instanceUrl: url, projectRef: PROJECT, token: maintainer.token }),
        422,
        'URL_NOT_ALLOWED',
      );
      expect(error.message).toMatch(message);
      await expectNothingStored('ssrf');
    });

    it('refuses a redirect to a metadata address, even where private networks are allowed', async () => {
      const redirector = await startRedirector('http://169.254.169.254/latest/meta-data/');
      try {
        const error = expectError(
          await kit.connect('ssrf', {
            instanceUrl: redirector.url,
            projectRef: PROJECT,
            token: maintainer.token,
          }),
          422,
          'URL_NOT_ALLOWED',
        );
        expect(error.message).toMatch(/169\.254|non-routable|redirect/i);
        expect(redirector.hits()).toBeGreaterThan(0);
      } finally {
        await redirector.stop();
      }
      await expectNothingStored('ssrf');
    });

    it('answers INSTANCE_UNREACHABLE with the cause: nothing listening', async () => {
      const closed = await startRedirector('http://unused');
      const url = closed.url;
      await closed.stop();
      const error = expectError(
        await kit.connect('reach', { instanceUrl: url, projectRef: PROJECT, token: maintainer.token }),
        502,
        'INSTANCE_UNREACHABLE',
      );
      expect(error.details?.['cause']).toBe('connection refused');
      await expectNothingStored('reach');
    });

    describe('a self-managed instance behind a private CA', () => {
      let pki: Pki;
      let proxy: { url: string; stop: () => Promise<void> };

      beforeAll(async () => {
        pki = generatePki();
        proxy = await startTlsProxy(kit.simUrl, pki);
      });
      afterAll(async () => proxy?.stop());

      it('is INSTANCE_UNREACHABLE with a TLS cause without the CA, and connects with caCertificate', async () => {
        const body = { instanceUrl: proxy.url, projectRef: PROJECT, token: maintainer.token };
        const error = expectError(await kit.connect('tls', body), 502, 'INSTANCE_UNREACHABLE');
        expect(String(error.details?.['cause'])).toMatch(/TLS|certificate/);
        await expectNothingStored('tls');

        const connected = await kit.connect('tls', { ...body, caCertificate: pki.caCertificate });
        expect(connected.status).toBe(200);
        expect(connected.body).toMatchObject({
          instanceUrl: proxy.url,
          mode: 'webhook_managed',
          status: 'active',
        });
        // Later calls (credentials for the other services) carry the CA too.
        const credentials = await kit.credentials(String(connected.body['connectionId']));
        expect(credentials).toMatchObject({
          ok: true,
          credentials: { caCertificate: pki.caCertificate, instanceUrl: proxy.url },
        });
        expect((await kit.api('DELETE', '/v1/projects/tls/connection')).status).toBe(200);
      });
    });
  });

  describe('3. the token', () => {
    it('AUTH_FAILED for a token GitLab does not know', async () => {
      const error = expectError(
        await kit.connect('tok', { projectRef: PROJECT, token: 'glpat-doesnotexist000000' }),
        422,
        'AUTH_FAILED',
      );
      expect(error.details?.['reason']).toBe('invalid');
      await expectNothingStored('tok');
    });

    it('AUTH_FAILED (revoked) for a revoked token', async () => {
      const user = await seedUser(kit.sim, 'revoked-user', {
        project: PROJECT,
        accessLevel: SIM_ACCESS.maintainer,
      });
      await kit.sim.revokeToken({ token: user.token });
      const error = expectError(
        await kit.connect('tok', { projectRef: PROJECT, token: user.token }),
        422,
        'AUTH_FAILED',
      );
      expect(error.details?.['reason']).toBe('revoked');
      await expectNothingStored('tok');
    });

    it('AUTH_FAILED for a blocked user', async () => {
      const user = await seedUser(kit.sim, 'blocked-user', {
        project: PROJECT,
        accessLevel: SIM_ACCESS.maintainer,
      });
      await kit.sim.updateUser('blocked-user', { state: 'blocked' });
      expectError(await kit.connect('tok', { projectRef: PROJECT, token: user.token }), 422, 'AUTH_FAILED');
      await expectNothingStored('tok');
    });

    it('TOKEN_EXPIRED for an expired token', async () => {
      const user = await seedUser(kit.sim, 'expired-user', {
        project: PROJECT,
        accessLevel: SIM_ACCESS.maintainer,
      });
      await kit.sim.expireToken({ token: user.token });
      expectError(await kit.connect('tok', { projectRef: PROJECT, token: user.token }), 422, 'TOKEN_EXPIRED');
      await expectNothingStored('tok');
    });

    it('INSUFFICIENT_SCOPE for a read_api token, naming the scope it needs', async () => {
      const user = await seedUser(kit.sim, 'read-api-user', {
        project: PROJECT,
        accessLevel: SIM_ACCESS.maintainer,
        scopes: ['read_api'],
      });
      const error = expectError(
        await kit.connect('tok', { projectRef: PROJECT, token: user.token }),
        422,
        'INSUFFICIENT_SCOPE',
      );
      expect(error.details).toMatchObject({ scopes: ['read_api'], requiredScope: 'api' });
      await expectNothingStored('tok');
    });
  });

  describe('4. the project and the role', () => {
    it('PROJECT_NOT_FOUND for a project that does not exist, and for one the user cannot see', async () => {
      expectError(
        await kit.connect('proj', { projectRef: 'acme/nope', token: maintainer.token }),
        422,
        'PROJECT_NOT_FOUND',
      );
      expectError(
        await kit.connect('proj', { projectRef: 999_999, token: maintainer.token }),
        422,
        'PROJECT_NOT_FOUND',
      );
      await kit.sim.createProject({ path: 'other/private-one', visibility: 'private' });
      expectError(
        await kit.connect('proj', { projectRef: 'other/private-one', token: maintainer.token }),
        422,
        'PROJECT_NOT_FOUND',
      );
      await expectNothingStored('proj');
    });

    it('INSUFFICIENT_ROLE for a Guest, naming the role it has and the one it needs', async () => {
      const guest = await seedUser(kit.sim, 'guest-user', {
        project: PROJECT,
        accessLevel: SIM_ACCESS.guest,
      });
      const error = expectError(
        await kit.connect('proj', { projectRef: PROJECT, token: guest.token }),
        422,
        'INSUFFICIENT_ROLE',
      );
      expect(error.details).toMatchObject({ accessLevel: 10, role: 'Guest', requiredRole: 'Reporter' });
      await expectNothingStored('proj');
    });

    it('connects a Reporter in webhook_manual mode instead of failing', async () => {
      const reporter = await seedUser(kit.sim, 'reporter-user', {
        project: PROJECT,
        accessLevel: SIM_ACCESS.reporter,
      });
      const response = await kit.connect('manual', { projectRef: PROJECT, token: reporter.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        mode: 'webhook_manual',
        status: 'awaiting_first_delivery',
        role: { name: 'Reporter', accessLevel: 20 },
      });
      expect((await kit.api('DELETE', '/v1/projects/manual/connection')).status).toBe(200);
    });

    it('finds a project by its nested group path (inherited membership) and by its numeric id', async () => {
      const nested = await kit.sim.createProject({ path: 'corp/division/team/app' });
      const groupMaintainer = await seedUser(kit.sim, 'group-maintainer', {
        group: 'corp/division',
        accessLevel: SIM_ACCESS.maintainer,
      });
      const byPath = await kit.connect('nested', {
        projectRef: 'corp/division/team/app',
        token: groupMaintainer.token,
      });
      expect(byPath.status).toBe(200);
      expect(byPath.body).toMatchObject({
        gitlabProject: { id: nested.id, path: 'corp/division/team/app' },
        mode: 'webhook_managed',
      });
      const byId = await kit.connect('nested', {
        projectRef: String(nested.id),
        token: groupMaintainer.token,
      });
      expect(byId.status).toBe(200);
      expect(byId.body['connectionId']).toBe(byPath.body['connectionId']);
      expect((await kit.api('DELETE', '/v1/projects/nested/connection')).status).toBe(200);
    });
  });

  it('ALREADY_CONNECTED when a connected project is pointed at another GitLab project; NOT_CONNECTED when none', async () => {
    await kit.sim.createProject({ path: 'acme/other' });
    await kit.sim.addMember({
      project: 'acme/other',
      username: 'maintainer',
      accessLevel: SIM_ACCESS.maintainer,
    });
    expect((await kit.connect('one', { projectRef: PROJECT, token: maintainer.token })).status).toBe(200);
    const error = expectError(
      await kit.connect('one', { projectRef: 'acme/other', token: maintainer.token }),
      409,
      'ALREADY_CONNECTED',
    );
    expect(error.details).toMatchObject({ projectPath: PROJECT });
    expect(await kit.rows('one')).toHaveLength(1);
    const hooksOfOther = (await kit.sim.state({ project: 'acme/other' })).hooks;
    expect(hooksOfOther).toEqual([]);
    expect((await kit.api('DELETE', '/v1/projects/one/connection')).status).toBe(200);

    for (const [method, route] of [
      ['GET', ''],
      ['DELETE', ''],
      ['POST', '/resync'],
    ] as const) {
      expectError(await kit.api(method, `/v1/projects/never/connection${route}`), 404, 'NOT_CONNECTED');
    }
    expectError(
      await kit.api('PUT', '/v1/projects/never/connection/token', { token: maintainer.token }),
      404,
      'NOT_CONNECTED',
    );
  });

  it('never lets a token out: not in logs, answers, events or the database', async () => {
    expect(secrets.length).toBeGreaterThan(5);
    const haystacks = {
      logs: stack.allLogs() + strict.logs(),
      responses: kit.responses.text(),
      events: await kit.natsText(),
      database: await kit.databaseText(),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets)
        expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
    }
  });
});
