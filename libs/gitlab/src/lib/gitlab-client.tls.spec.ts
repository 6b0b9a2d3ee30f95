import { appErrorFrom, clientFor, closeClients } from '../../test/client-under-test';
import { FakeGitlab } from '../../test/fake-gitlab.server';
import { generateTestPki, type TestPki } from '../../test/test-certificates';

const USER = { id: 1, username: 'bot', name: 'Bot', state: 'active', web_url: 'x', avatar_url: null };

describe('GitLab client with a private CA', () => {
  let pki: TestPki;
  let fake: FakeGitlab;

  beforeAll(() => {
    pki = generateTestPki();
  });

  beforeEach(async () => {
    fake = await FakeGitlab.start({ key: pki.serverKey, cert: pki.serverCertificate });
    fake.on('GET', '/api/v4/user', { json: USER });
  });

  afterEach(async () => {
    await closeClients();
    await fake.close();
  });

  it('fails verification without the CA, naming the certificate problem', async () => {
    const error = await appErrorFrom(clientFor(fake).users.current());

    expect(error.code).toBe('INSTANCE_UNREACHABLE');
    expect(error.message).toContain('certificate');
    expect(error.details).toMatchObject({ cause: expect.stringContaining('certificate') });
    // A trust problem does not go away by retrying within the call.
    expect(error.details).toMatchObject({ attempts: 1 });
  });

  it('verifies the server against caCertificate and succeeds', async () => {
    const user = await clientFor(fake, { caCertificate: pki.caCertificate }).users.current();

    expect(user.username).toBe('bot');
  });

  it('rejects a caCertificate that is not PEM', () => {
    expect(() => clientFor(fake, { caCertificate: 'not a certificate' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});
