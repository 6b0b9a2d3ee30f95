import { startTestSim, type TestSim } from './helpers/test-sim';

describe('authentication with personal access tokens', () => {
  let t: TestSim;
  let token: string;

  beforeAll(async () => {
    t = await startTestSim();
    await t.client.createUser({ username: 'alice' });
    await t.client.createProject({ path: 'team/app' });
    await t.client.addMember({ project: 'team/app', username: 'alice', accessLevel: 30 });
    token = (await t.client.createToken({ username: 'alice', scopes: ['api'] })).token;
  });

  afterAll(() => t.close());

  it('accepts the token as PRIVATE-TOKEN, Authorization: Bearer and the private_token parameter', async () => {
    const byHeader = await t.api<{ username: string }>('GET', '/user', { token });
    const byBearer = await t.api<{ username: string }>('GET', '/user', {
      headers: { authorization: `Bearer ${token}` },
    });
    const byParam = await t.api<{ username: string }>('GET', `/user?private_token=${token}`);
    expect([byHeader.body.username, byBearer.body.username, byParam.body.username]).toEqual([
      'alice',
      'alice',
      'alice',
    ]);
  });

  it('answers 401 {"message":"401 Unauthorized"} without a token or with an unknown one', async () => {
    const missing = await t.api('GET', '/user');
    const unknown = await t.api('GET', '/user', { token: 'glpat-not-a-real-token-000' });
    for (const response of [missing, unknown]) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ message: '401 Unauthorized' });
    }
  });

  it('answers an expired token with rack-oauth2 invalid_token and a WWW-Authenticate challenge', async () => {
    const expiring = await t.client.createToken({ username: 'alice', expiresAt: '2099-01-01' });
    expect((await t.api('GET', '/user', { token: expiring.token })).status).toBe(200);
    await t.client.expireToken({ id: expiring.id });
    const response = await t.api('GET', '/user', { token: expiring.token });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: 'invalid_token',
      error_description: 'Token is expired. You can either do re-authorization or token refresh.',
    });
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token is expired. You can either do re-authorization or token refresh."',
    );
  });

  it('treats a token as expired on its expires_at day, as time passes', async () => {
    const clock = await t.client.clock();
    const tomorrow = new Date(clock.now + 24 * 3600_000).toISOString().slice(0, 10);
    const expiring = await t.client.createToken({ username: 'alice', expiresAt: tomorrow });
    expect((await t.api('GET', '/personal_access_tokens/self', { token: expiring.token })).status).toBe(200);
    await t.client.advanceClock(24 * 3600_000);
    try {
      expect((await t.api('GET', '/personal_access_tokens/self', { token: expiring.token })).status).toBe(
        401,
      );
    } finally {
      await t.client.resetClock();
    }
  });

  it('answers a revoked token with invalid_token "Token was revoked"', async () => {
    const revoked = await t.client.createToken({ username: 'alice' });
    await t.client.revokeToken({ token: revoked.token });
    const response = await t.api('GET', '/projects/team%2Fapp', { token: revoked.token });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: 'invalid_token',
      error_description: 'Token was revoked. You have to re-authorize from the user.',
    });
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers a token without a suitable scope with 403 insufficient_scope and no challenge', async () => {
    const readUser = await t.client.createToken({ username: 'alice', scopes: ['read_user'] });
    expect((await t.api('GET', '/user', { token: readUser.token })).status).toBe(200);
    const read = await t.api('GET', '/projects/team%2Fapp/issues', { token: readUser.token });
    expect(read.status).toBe(403);
    expect(read.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'The request requires higher privileges than provided by the access token.',
      scope: 'api read_api',
    });
    expect(read.headers.get('www-authenticate')).toBeNull();

    const readApi = await t.client.createToken({ username: 'alice', scopes: ['read_api'] });
    expect((await t.api('GET', '/projects/team%2Fapp/issues', { token: readApi.token })).status).toBe(200);
    const write = await t.api('POST', '/projects/team%2Fapp/issues', {
      token: readApi.token,
      body: { title: 'x' },
    });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ error: 'insufficient_scope', scope: 'api' });
  });

  it('describes the token in use at /personal_access_tokens/self, without its secret', async () => {
    const created = await t.client.createToken({
      username: 'alice',
      name: 'integration',
      scopes: ['api', 'read_user'],
      expiresAt: '2099-12-31',
    });
    const response = await t.api<Record<string, unknown>>('GET', '/personal_access_tokens/self', {
      token: created.token,
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: created.id,
      name: 'integration',
      scopes: ['api', 'read_user'],
      expires_at: '2099-12-31',
      revoked: false,
      active: true,
      user_id: created.userId,
    });
    expect(response.text).not.toContain(created.token);
  });

  it('reports the claimed GitLab version at /version and /metadata', async () => {
    expect((await t.api('GET', '/version', { token })).body).toMatchObject({ version: '18.6.0' });
    expect((await t.api('GET', '/metadata', { token })).body).toMatchObject({
      version: '18.6.0',
      enterprise: false,
    });
    expect((await t.api('GET', '/version')).status).toBe(401);
  });

  it('refuses a blocked user with 403 "Your account has been blocked."', async () => {
    await t.client.createUser({ username: 'mallory' });
    const mallory = await t.client.createToken({ username: 'mallory' });
    await t.client.updateUser('mallory', { state: 'blocked' });
    const response = await t.api('GET', '/user', { token: mallory.token });
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ message: '403 Forbidden - Your account has been blocked.' });
  });
});
