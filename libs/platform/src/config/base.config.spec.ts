import { CoreServiceConfig, grpcTlsOf, httpExposureOf, ServiceConfig } from './base.config';
import { ConfigError, loadConfig } from './load-config';

const problemsOf = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig(CoreServiceConfig, env, 'core');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('CoreServiceConfig: CORE_API_TOKEN', () => {
  it('is a list, so that a token can be rotated without downtime', () => {
    expect(loadConfig(CoreServiceConfig, { CORE_API_TOKEN: 'current-token' }).CORE_API_TOKEN).toEqual([
      'current-token',
    ]);
    expect(
      loadConfig(CoreServiceConfig, { CORE_API_TOKEN: ' new-token , old-token ' }).CORE_API_TOKEN,
    ).toEqual(['new-token', 'old-token']);
  });

  it.each([
    ['unset', {}, 'is required'],
    ['only commas', { CORE_API_TOKEN: ' , ,' }, 'is required'],
    ['a token with a space', { CORE_API_TOKEN: 'good-token,bad token-s3cr3t' }, 'printable ASCII'],
    ['a control character', { CORE_API_TOKEN: 'bad\u0007token-s3cr3t' }, 'printable ASCII'],
    ['a non-ASCII token', { CORE_API_TOKEN: 'tökenß-s3cr3t' }, 'printable ASCII'],
    ['an over-long token', { CORE_API_TOKEN: `${'x'.repeat(513)}` }, 'longer than 512'],
    [
      'too many tokens',
      { CORE_API_TOKEN: Array.from({ length: 9 }, (_, i) => `t${i}`).join(',') },
      'at most 8',
    ],
  ])('refuses %s, naming the variable and never its value', (_case, env: Record<string, string>, problem) => {
    const error = problemsOf(env);
    expect(error.message).toContain(`CORE_API_TOKEN: `);
    expect(error.message).toContain(problem);
    expect(error.message).not.toMatch(/s3cr3t|xxxxxxxx|t8/);
    expect(JSON.stringify(error.problems)).not.toMatch(/s3cr3t|xxxxxxxx/);
  });
});

describe('CoreServiceConfig: GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE', () => {
  it('serves plaintext when neither is set', () => {
    expect(grpcTlsOf(loadConfig(CoreServiceConfig, { CORE_API_TOKEN: 't' }))).toBeUndefined();
  });

  it('needs both', () => {
    expect(problemsOf({ CORE_API_TOKEN: 't', GRPC_TLS_CERT_FILE: '/etc/hostname' }).message).toContain(
      'GRPC_TLS_KEY_FILE: must be set together with GRPC_TLS_CERT_FILE',
    );
    expect(problemsOf({ CORE_API_TOKEN: 't', GRPC_TLS_KEY_FILE: '/etc/hostname' }).message).toContain(
      'GRPC_TLS_CERT_FILE: must be set together with GRPC_TLS_KEY_FILE',
    );
  });

  it('refuses missing files and files that are not PEM', () => {
    const message = problemsOf({
      CORE_API_TOKEN: 't',
      GRPC_TLS_CERT_FILE: '/nonexistent/tls.crt',
      GRPC_TLS_KEY_FILE: __filename,
    }).message;
    expect(message).toContain('GRPC_TLS_CERT_FILE: /nonexistent/tls.crt cannot be read (ENOENT)');
    expect(message).toContain(`GRPC_TLS_KEY_FILE: ${__filename} is not a PEM private key`);
    expect(message).not.toContain('describe(');
  });
});

describe('ServiceConfig: API_DOCS, NODE_ENV, TRUST_PROXY', () => {
  const load = (env: Record<string, string>) => loadConfig(ServiceConfig, env, 'service');

  it('serves /docs by default, not in production unless asked to', () => {
    expect(httpExposureOf(load({})).apiDocs).toBe(true);
    expect(httpExposureOf(load({ NODE_ENV: 'production' })).apiDocs).toBe(false);
    expect(httpExposureOf(load({ NODE_ENV: 'production', API_DOCS: 'true' })).apiDocs).toBe(true);
    expect(httpExposureOf(load({ NODE_ENV: 'development', API_DOCS: 'false' })).apiDocs).toBe(false);
  });

  it('trusts no proxy unless configured', () => {
    expect(httpExposureOf(load({})).trustProxy).toBe(false);
    expect(load({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(load({ TRUST_PROXY: 'FALSE' }).TRUST_PROXY).toBe(false);
    expect(load({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(load({ TRUST_PROXY: '10.0.0.0/8, fd00::/8,loopback,192.168.1.7' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
      'loopback',
      '192.168.1.7',
    ]);
  });

  it.each([
    ['API_DOCS', 'maybe'],
    ['NODE_ENV', 'Production; rm -rf'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', '0'],
    ['TRUST_PROXY', '999'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.1'],
    ['TRUST_PROXY', '0x7f.1'],
    ['TRUST_PROXY', '10.0.0.1,'],
    ['TRUST_PROXY', 'proxy.example.com'],
  ])('refuses %s=%p', (variable, value) => {
    expect(() => load({ [variable]: value })).toThrow(new RegExp(`${variable}: `));
  });
});

describe('ServiceConfig: ADMIN_API_TOKEN', () => {
  it('is off (an empty list) when unset, and a list otherwise', () => {
    expect(loadConfig(CoreServiceConfig, { CORE_API_TOKEN: 'core-token' }).ADMIN_API_TOKEN).toEqual([]);
    expect(
      loadConfig(CoreServiceConfig, {
        CORE_API_TOKEN: 'core-token',
        ADMIN_API_TOKEN: 'admin-token-0123456789, admin-token-next-98765',
      }).ADMIN_API_TOKEN,
    ).toEqual(['admin-token-0123456789', 'admin-token-next-98765']);
    expect(loadConfig(ServiceConfig, { ADMIN_API_TOKEN: 'gateway-admin-token-42' }).ADMIN_API_TOKEN).toEqual([
      'gateway-admin-token-42',
    ]);
  });

  it.each([
    [
      'a core token',
      { CORE_API_TOKEN: 'shared-token-s3cr3t-0001', ADMIN_API_TOKEN: 'shared-token-s3cr3t-0001' },
      'must not repeat a token of CORE_API_TOKEN',
    ],
    ['a short token', { CORE_API_TOKEN: 'core-token', ADMIN_API_TOKEN: 's3cr3t' }, 'shorter than 16'],
    [
      'a token with a space',
      { CORE_API_TOKEN: 'core-token', ADMIN_API_TOKEN: 'admin token s3cr3t-0001' },
      'printable ASCII',
    ],
  ])('refuses %s, naming the variable and never its value', (_case, env: Record<string, string>, problem) => {
    const error = problemsOf(env);
    expect(error.message).toContain('ADMIN_API_TOKEN: ');
    expect(error.message).toContain(problem);
    expect(error.message).not.toContain('s3cr3t');
  });
});
