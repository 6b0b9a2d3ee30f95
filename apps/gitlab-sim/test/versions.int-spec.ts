import { createTeamProject, enc, startTestSim, type TeamProject, type TestSim } from './helpers/test-sim';
import { WebhookReceiver } from './helpers/webhook-receiver';

/** An older GitLab, claimed per test (docs/GITLAB.md, "Older GitLab versions"). */
describe('the GitLab version the simulator claims', () => {
  let t: TestSim;
  let receiver: WebhookReceiver;
  let team: TeamProject;
  let token: string;
  let adminToken: string;
  let readUserToken: string;

  beforeAll(async () => {
    t = await startTestSim({ GITLAB_SIM_VERSION: '17.2.1' });
    receiver = await WebhookReceiver.start();
    team = await createTeamProject(t.client, 'versions/app');
    token = team.tokens.developer;
    await t.client.createUser({ username: 'root', admin: true });
    adminToken = (await t.client.createToken({ username: 'root', scopes: ['api'] })).token;
    readUserToken = (
      await t.client.createToken({ username: 'developer-versions-app', scopes: ['read_user'] })
    ).token;
  });

  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  afterEach(() => t.client.updateSettings({ gitlabVersion: '17.2.1' }));

  const claim = (gitlabVersion: string) => t.client.updateSettings({ gitlabVersion });

  it('claims GITLAB_SIM_VERSION until told otherwise, in GET /version and the webhook User-Agent', async () => {
    expect((await t.api('GET', '/version', { token })).body).toEqual({
      version: '17.2.1',
      revision: expect.any(String),
    });
    expect(await claim('15.4.6-ee')).toMatchObject({ gitlabVersion: '15.4.6-ee' });
    expect((await t.api('GET', '/version', { token })).body).toMatchObject({ version: '15.4.6-ee' });
    const hook = await t.api('POST', `/projects/${enc(team.path)}/hooks`, {
      token: team.tokens.maintainer,
      body: { url: receiver.url, issues_events: true, push_events: false },
    });
    expect(hook.status).toBe(201);
    await t.client.createIssue(team.path, { as: 'developer-versions-app', title: 'From an older GitLab' });
    const [delivery] = await receiver.waitFor(1);
    expect(delivery?.headers['user-agent']).toBe('GitLab/15.4.6-ee');
  });

  it('refuses a version that does not look like one', async () => {
    const response = await fetch(`${t.url}/__sim/settings`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gitlabVersion: 'fifteen' }),
    });
    expect(response.status).toBe(400);
  });

  it('serves GET /personal_access_tokens/self from 15.5 on', async () => {
    await claim('15.5.0');
    const response = await t.api<{ scopes: string[] }>('GET', '/personal_access_tokens/self', { token });
    expect({ status: response.status, scopes: response.body.scopes }).toEqual({
      status: 200,
      scopes: ['api'],
    });
  });

  it('15.1–15.4: `self` is the id of no token (401 for users; 404 for admins from 15.3)', async () => {
    await claim('15.4.0');
    const user = await t.api('GET', '/personal_access_tokens/self', { token });
    expect({ status: user.status, body: user.body }).toEqual({
      status: 401,
      body: { message: '401 Unauthorized' },
    });
    const admin = await t.api('GET', '/personal_access_tokens/self', { token: adminToken });
    expect({ status: admin.status, body: admin.body }).toEqual({
      status: 404,
      body: { message: '404 Not found' },
    });
    const readUser = await t.api<{ error: string }>('GET', '/personal_access_tokens/self', {
      token: readUserToken,
    });
    expect({ status: readUser.status, error: readUser.body.error }).toEqual({
      status: 403,
      error: 'insufficient_scope',
    });
    await claim('15.2.3');
    expect((await t.api('GET', '/personal_access_tokens/self', { token: adminToken })).status).toBe(401);
    // The token works everywhere else, and the list of the user's tokens still describes it.
    expect((await t.api('GET', '/user', { token })).status).toBe(200);
    const list = await t.api<Array<{ scopes: string[]; active: boolean }>>('GET', '/personal_access_tokens', {
      token,
    });
    expect({ status: list.status, scopes: list.body.map((entry) => entry.scopes) }).toEqual({
      status: 200,
      scopes: [['api'], ['read_user']],
    });
  });

  it('before 15.1 no route matches: the catch-all 404, as for any unknown path', async () => {
    await claim('14.10.5');
    const response = await t.api('GET', '/personal_access_tokens/self', { token });
    expect({ status: response.status, body: response.body }).toEqual({
      status: 404,
      body: { error: '404 Not Found' },
    });
  });

  it('has GET /metadata from 15.2 and the token list from 13.3', async () => {
    await claim('15.1.0');
    expect((await t.api('GET', '/metadata', { token })).status).toBe(404);
    await claim('15.2.0');
    expect((await t.api('GET', '/metadata', { token })).status).toBe(200);
    await claim('13.2.0');
    expect((await t.api('GET', '/personal_access_tokens', { token })).status).toBe(404);
    expect((await t.api('GET', '/version', { token })).body).toMatchObject({ version: '13.2.0' });
  });

  it('goes back to GITLAB_SIM_VERSION on reset', async () => {
    await claim('12.0.0');
    await t.client.reset();
    expect((await t.client.settings()).gitlabVersion).toBe('17.2.1');
  });
});
