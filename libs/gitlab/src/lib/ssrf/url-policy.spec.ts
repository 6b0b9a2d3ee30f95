import { appErrorFrom } from '../../../test/client-under-test';
import { createGuardedLookup } from './guarded-agent';
import { assertInstanceUrlAllowed, STRICT_URL_POLICY, type HostResolver, type UrlPolicy } from './url-policy';

const resolvingTo =
  (...addresses: string[]): HostResolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

const PRIVATE_OK: UrlPolicy = { allowPrivateNetwork: true, allowedHosts: [] };

describe('assertInstanceUrlAllowed', () => {
  it.each([
    ['loopback IPv4', 'http://127.0.0.1'],
    ['loopback via another notation', 'http://2130706433/'],
    ['RFC 1918', 'https://10.1.2.3'],
    ['RFC 1918 172.16/12', 'https://172.20.0.1'],
    ['RFC 1918 192.168/16', 'https://192.168.1.1'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data'],
    ['link-local', 'http://169.254.10.10'],
    ['CGNAT', 'http://100.64.0.1'],
    ['Alibaba metadata', 'http://100.100.100.200'],
    ['unspecified', 'http://0.0.0.0'],
    ['broadcast', 'http://255.255.255.255'],
    ['multicast', 'http://224.0.0.1'],
    ['documentation range', 'http://192.0.2.10'],
    ['IPv6 loopback', 'http://[::1]'],
    ['IPv6 unspecified', 'http://[::]'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]'],
    ['IPv4-mapped private, hex form', 'http://[::ffff:a00:1]'],
    ['IPv4-compatible loopback', 'http://[::127.0.0.1]'],
    ['NAT64 of the metadata address', 'http://[64:ff9b::a9fe:a9fe]'],
    ['6to4 of loopback', 'http://[2002:7f00:1::1]'],
    ['unique-local', 'http://[fc00::1]'],
    ['AWS IPv6 metadata', 'http://[fd00:ec2::254]'],
    ['IPv6 link-local', 'http://[fe80::1]'],
    ['IPv6 multicast', 'http://[ff02::1]'],
  ])('refuses %s (%s) with URL_NOT_ALLOWED', async (_name, url) => {
    const error = await appErrorFrom(assertInstanceUrlAllowed(url, STRICT_URL_POLICY));
    expect(error.code).toBe('URL_NOT_ALLOWED');
  });

  it('refuses localhost (it resolves to loopback)', async () => {
    const error = await appErrorFrom(assertInstanceUrlAllowed('http://localhost:8080', STRICT_URL_POLICY));
    expect(error.code).toBe('URL_NOT_ALLOWED');
  });

  it('refuses a host name when any of its addresses is private', async () => {
    const resolver = resolvingTo('93.184.216.34', '10.0.0.5');
    const error = await appErrorFrom(
      assertInstanceUrlAllowed('https://gitlab.corp.example', STRICT_URL_POLICY, { resolver }),
    );
    expect(error.code).toBe('URL_NOT_ALLOWED');
    expect(error.details).toMatchObject({ host: 'gitlab.corp.example', range: 'private' });
  });

  it.each([
    ['ftp scheme', 'ftp://gitlab.example.com'],
    ['file scheme', 'file:///etc/passwd'],
    ['credentials in the URL', 'https://user:pass@gitlab.example.com'],
    ['not a URL', 'gitlab.example.com'],
  ])('refuses %s', async (_name, url) => {
    const error = await appErrorFrom(
      assertInstanceUrlAllowed(url, STRICT_URL_POLICY, { resolver: resolvingTo('93.184.216.34') }),
    );
    expect(error.code).toBe('URL_NOT_ALLOWED');
  });

  it('accepts public addresses, literal or resolved, including NAT64 of a public IPv4', async () => {
    const resolver = resolvingTo('93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946');
    await expect(
      assertInstanceUrlAllowed('https://gitlab.com', STRICT_URL_POLICY, { resolver }),
    ).resolves.toBeInstanceOf(URL);
    await expect(
      assertInstanceUrlAllowed('https://93.184.216.34', STRICT_URL_POLICY),
    ).resolves.toBeInstanceOf(URL);
    await expect(
      assertInstanceUrlAllowed('https://[64:ff9b::5db8:d822]', STRICT_URL_POLICY),
    ).resolves.toBeInstanceOf(URL);
  });

  it('admits private networks when the policy allows them, but never metadata or unspecified addresses', async () => {
    await expect(assertInstanceUrlAllowed('http://10.1.2.3', PRIVATE_OK)).resolves.toBeInstanceOf(URL);
    await expect(assertInstanceUrlAllowed('http://[::1]:8080', PRIVATE_OK)).resolves.toBeInstanceOf(URL);
    expect((await appErrorFrom(assertInstanceUrlAllowed('http://169.254.169.254', PRIVATE_OK))).code).toBe(
      'URL_NOT_ALLOWED',
    );
    expect((await appErrorFrom(assertInstanceUrlAllowed('http://0.0.0.0', PRIVATE_OK))).code).toBe(
      'URL_NOT_ALLOWED',
    );
  });

  it('lets configured hosts (exact or *.wildcard) bypass the address check', async () => {
    const policy: UrlPolicy = {
      allowPrivateNetwork: false,
      allowedHosts: ['gitlab.internal', '*.corp.example'],
    };
    const resolver = resolvingTo('10.0.0.5');

    await expect(
      assertInstanceUrlAllowed('https://gitlab.internal', policy, { resolver }),
    ).resolves.toBeInstanceOf(URL);
    await expect(
      assertInstanceUrlAllowed('https://git.corp.example', policy, { resolver }),
    ).resolves.toBeInstanceOf(URL);
    expect(
      (await appErrorFrom(assertInstanceUrlAllowed('https://corp.example', policy, { resolver }))).code,
    ).toBe('URL_NOT_ALLOWED');
    expect(
      (await appErrorFrom(assertInstanceUrlAllowed('https://other.internal', policy, { resolver }))).code,
    ).toBe('URL_NOT_ALLOWED');
  });

  it('reports a DNS failure as a transient INSTANCE_UNREACHABLE', async () => {
    const resolver: HostResolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const error = await appErrorFrom(
      assertInstanceUrlAllowed('https://nowhere.example', STRICT_URL_POLICY, { resolver }),
    );
    expect(error.code).toBe('INSTANCE_UNREACHABLE');
    expect(error.transient).toBe(true);
    expect(error.message).toContain('DNS lookup failed');
  });

  describe('link-local addresses (169.254.0.0/16, fe80::/10), refused under every policy', () => {
    const LINK_LOCAL = [
      '169.254.10.10',
      '169.254.0.1',
      'fe80::1',
      'fe80::a9fe:1',
      'febf::1',
      '::ffff:169.254.1.1',
    ];
    const ALLOWED_HOST: UrlPolicy = {
      allowPrivateNetwork: true,
      allowedHosts: ['gitlab.internal', '*.corp.example'],
    };

    it.each(LINK_LOCAL)('refuses the literal %s even when private networks are allowed', async (address) => {
      const url = address.includes(':') ? `http://[${address}]` : `http://${address}`;
      const error = await appErrorFrom(assertInstanceUrlAllowed(url, PRIVATE_OK));
      expect(error.code).toBe('URL_NOT_ALLOWED');
      expect(error.details).toMatchObject({ range: 'linkLocal' });
    });

    it.each(LINK_LOCAL)('refuses an allowed host whose lookup answers %s', async (address) => {
      for (const host of ['gitlab.internal', 'git.corp.example']) {
        const error = await appErrorFrom(
          assertInstanceUrlAllowed(`https://${host}`, ALLOWED_HOST, {
            resolver: resolvingTo('10.0.0.5', address),
          }),
        );
        expect(error.code).toBe('URL_NOT_ALLOWED');
        expect(error.details).toMatchObject({ host, range: 'linkLocal' });
      }
    });

    it('refuses the metadata addresses for an allowed host too', async () => {
      for (const address of ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']) {
        const error = await appErrorFrom(
          assertInstanceUrlAllowed('https://gitlab.internal', ALLOWED_HOST, {
            resolver: resolvingTo(address),
          }),
        );
        expect(error.code).toBe('URL_NOT_ALLOWED');
      }
    });

    it('refuses at connection time (the guarded lookup) before any address reaches connect', async () => {
      for (const policy of [PRIVATE_OK, ALLOWED_HOST]) {
        for (const address of LINK_LOCAL) {
          // A rebinding answer: the first lookup was fine, the one at connect time is link-local.
          const lookup = createGuardedLookup(policy, resolvingTo(address));
          const outcome = await new Promise<{ error: Error | null; address: unknown }>((resolve) =>
            lookup('gitlab.internal', { all: true }, (error, resolved) =>
              resolve({ error, address: resolved }),
            ),
          );
          expect(outcome.error).toMatchObject({ code: 'URL_NOT_ALLOWED' });
          expect(outcome.address).toEqual([]);
        }
      }
    });

    it('still admits loopback and RFC 1918 addresses when private networks are allowed', async () => {
      await expect(
        assertInstanceUrlAllowed('https://gitlab.lan', PRIVATE_OK, {
          resolver: resolvingTo('192.168.1.5', '::1'),
        }),
      ).resolves.toBeInstanceOf(URL);
      await expect(
        assertInstanceUrlAllowed(
          'https://gitlab.internal',
          { allowPrivateNetwork: false, allowedHosts: ['gitlab.internal'] },
          {
            resolver: resolvingTo('10.0.0.5'),
          },
        ),
      ).resolves.toBeInstanceOf(URL);
    });
  });
});
