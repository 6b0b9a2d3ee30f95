import { appErrorFrom, clientFor, closeClients } from '../../test/client-under-test';
import { FakeGitlab } from '../../test/fake-gitlab.server';
import { createGitlabClient } from './gitlab-client';
import { STRICT_URL_POLICY, type HostResolver } from './ssrf/url-policy';

const USER = { id: 1, username: 'bot', name: 'Bot', state: 'active', web_url: 'x', avatar_url: null };

describe('GitLab client SSRF guard', () => {
  let fake: FakeGitlab;
  let port: string;

  beforeEach(async () => {
    fake = await FakeGitlab.start();
    fake.on('GET', '/api/v4/user', { json: USER });
    port = new URL(fake.baseUrl).port;
  });

  afterEach(async () => {
    await closeClients();
    await fake.close();
  });

  it('refuses a loopback instance under the default policy without sending anything', async () => {
    const error = await appErrorFrom(clientFor(fake, { policy: STRICT_URL_POLICY }).users.current());

    expect(error.code).toBe('URL_NOT_ALLOWED');
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a host name whose lookup returns a private address', async () => {
    const resolver: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const client = clientFor(fake, {
      instanceUrl: `http://gitlab.example.test:${port}`,
      policy: STRICT_URL_POLICY,
      resolver,
    });

    const error = await appErrorFrom(client.users.current());

    expect(error.code).toBe('URL_NOT_ALLOWED');
    expect(fake.requests).toHaveLength(0);
  });

  it('checks again at connection time, so a rebinding DNS answer cannot reach a private address', async () => {
    let lookups = 0;
    const resolver: HostResolver = async () => [
      lookups++ === 0 ? { address: '93.184.216.34', family: 4 } : { address: '127.0.0.1', family: 4 },
    ];
    const client = clientFor(fake, {
      instanceUrl: `http://rebind.example.test:${port}`,
      policy: STRICT_URL_POLICY,
      resolver,
    });

    const error = await appErrorFrom(client.users.current());

    expect(error.code).toBe('URL_NOT_ALLOWED');
    expect(lookups).toBe(2);
    expect(fake.requests).toHaveLength(0);
  });

  it('talks to a private host the policy names explicitly', async () => {
    const resolver: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const client = clientFor(fake, {
      instanceUrl: `http://gitlab.internal.test:${port}`,
      policy: { allowPrivateNetwork: false, allowedHosts: ['*.internal.test'] },
      resolver,
    });

    await expect(client.users.current()).resolves.toMatchObject({ username: 'bot' });
  });

  it('refuses a redirect from an allowed server to the metadata address', async () => {
    fake.on('GET', '/api/v4/user', {
      status: 302,
      headers: { location: 'http://169.254.169.254/latest/meta-data/' },
    });

    const error = await appErrorFrom(clientFor(fake).users.current());

    expect(error.code).toBe('URL_NOT_ALLOWED');
    expect(fake.requests).toHaveLength(1);
  });

  it('follows a same-host redirect (a renamed project) and keeps the token', async () => {
    fake
      .on('GET', '/api/v4/projects/old%2Fname', { status: 301, headers: { location: '/api/v4/projects/42' } })
      .on('GET', '/api/v4/projects/42', { json: { id: 42, path_with_namespace: 'new/name' } });

    const project = await clientFor(fake).projects.get('old/name');

    expect(project.id).toBe(42);
    expect(fake.requests[1]!.headers['private-token']).toBeDefined();
  });

  it('drops the token when a redirect leaves the host', async () => {
    const other = await FakeGitlab.start();
    try {
      other.on('GET', '/api/v4/user', { json: USER });
      fake.on('GET', '/api/v4/user', {
        status: 307,
        headers: { location: `${other.baseUrl.replace('127.0.0.1', 'localhost')}/api/v4/user` },
      });

      await clientFor(fake).users.current();

      expect(other.requests).toHaveLength(1);
      expect(other.requests[0]!.headers['private-token']).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('gives up after 5 redirects', async () => {
    fake.on('GET', '/api/v4/user', { status: 302, headers: { location: '/api/v4/user' } });

    const error = await appErrorFrom(clientFor(fake).users.current());

    expect(error.message).toContain('Too many redirects');
    expect(fake.requests).toHaveLength(6);
  });

  it.each([['ftp://gitlab.example.com'], ['https://user:pass@gitlab.example.com']])(
    'refuses to build a client for %s',
    (instanceUrl) => {
      expect(() => createGitlabClient({ instanceUrl, token: 't', policy: STRICT_URL_POLICY })).toThrow(
        expect.objectContaining({ code: 'URL_NOT_ALLOWED' }),
      );
    },
  );
});
