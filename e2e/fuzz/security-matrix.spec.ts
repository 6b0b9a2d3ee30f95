import crypto from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import fc from 'fast-check';

import {
  assertInstanceUrlAllowed,
  createGitlabClient,
  GitlabLimiterRegistry,
  STRICT_URL_POLICY,
  type HostResolver,
  type UrlPolicy,
} from '@testkase/gitlab';
import { presentsCoreToken } from '@testkase/platform';
import { AppError, constantTimeEqual } from '@testkase/util';

/**
 * Issue 14, the security matrix without a running stack: the SSRF policy of libs/gitlab
 * (docs/ARCHITECTURE.md, "Configuration (environment)") for every address class in every notation,
 * behind host names (a stub resolver: no real DNS) and redirects, checked before any connection;
 * and the constant-time token checks of the core API guards.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 1_412_2026);
const runs = (numRuns: number) => ({ seed: SEED, numRuns });

const octet = () => fc.integer({ min: 0, max: 255 });
const v4 = (a: number | fc.Arbitrary<number>, b?: fc.Arbitrary<number>) =>
  fc
    .tuple(typeof a === 'number' ? fc.constant(a) : a, b ?? octet(), octet(), octet())
    .map((parts) => parts as [number, number, number, number]);

/** IPv4 addresses that no strict policy admits, by class. */
const FORBIDDEN_V4: Record<string, fc.Arbitrary<[number, number, number, number]>> = {
  loopback: v4(127),
  'private 10/8': v4(10),
  'private 172.16/12': v4(172, fc.integer({ min: 16, max: 31 })),
  'private 192.168/16': v4(192, fc.constant(168)),
  'CGNAT 100.64/10': v4(100, fc.integer({ min: 64, max: 127 })),
  'link-local 169.254/16': v4(169, fc.constant(254)),
  'this network 0/8': v4(0),
  'multicast 224/4': v4(fc.integer({ min: 224, max: 239 })),
  'reserved 240/4': v4(fc.integer({ min: 240, max: 255 })),
  metadata: fc.constantFrom<[number, number, number, number]>([169, 254, 169, 254], [100, 100, 100, 200]),
};
/** Classes refused always, even with GITLAB_ALLOW_PRIVATE_NETWORK=true or an allowed host. */
const NEVER_ALLOWED_V4 = ['link-local 169.254/16', 'metadata'];

const hex = (parts: number[]) =>
  `${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;

/** Every notation a URL host or a DNS answer may use for one IPv4 address. */
function notations([a, b, c, d]: [number, number, number, number]): string[] {
  const dotted = `${a}.${b}.${c}.${d}`;
  const integer = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  return [
    dotted,
    String(integer),
    `0x${integer.toString(16)}`,
    [a, b, c, d].map((n) => `0${n.toString(8)}`).join('.'),
    `${a}.${(b << 16) + (c << 8) + d}`,
    `[::ffff:${dotted}]`,
    `[::ffff:${hex([a, b, c, d])}]`,
    `[0:0:0:0:0:ffff:${dotted}]`,
    `[64:ff9b::${dotted}]`,
    `[2002:${hex([a, b, c, d])}::1]`,
  ];
}

const FORBIDDEN_V6 = [
  '::1',
  '::',
  '0:0:0:0:0:0:0:1',
  'fc00::1',
  'fd12:3456:789a::1',
  'fe80::1',
  'fe80::1%25eth0',
  'febf::ffff',
  'ff02::1',
  'fd00:ec2::254',
  '::127.0.0.1',
];

const resolvingTo =
  (addresses: string[], calls?: string[]): HostResolver =>
  async (hostname) => {
    calls?.push(hostname);
    return addresses.map((address) => ({
      address: address.replace(/^\[|\]$/g, ''),
      family: address.includes(':') ? 6 : 4,
    }));
  };

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ALLOWED',
    (error: unknown) => (error instanceof AppError ? error.code : `not an AppError: ${String(error)}`),
  );

const classAndAddress = fc
  .constantFrom(...Object.keys(FORBIDDEN_V4))
  .chain((klass) => FORBIDDEN_V4[klass]!.map((parts) => ({ klass, parts })));

const hostName = fc
  .array(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), { minLength: 1, maxLength: 3 })
  .map((labels) => `${labels.join('.')}.fuzz.test`);

describe('SSRF policy matrix (libs/gitlab)', () => {
  it('refuses every forbidden IPv4 address in every notation, as a URL literal, without a lookup', async () => {
    await fc.assert(
      fc.asyncProperty(
        classAndAddress,
        fc.nat(),
        fc.constantFrom('http', 'https'),
        async ({ parts }, pick, scheme) => {
          const forms = notations(parts);
          const host = forms[pick % forms.length]!;
          const calls: string[] = [];
          const code = await codeOf(
            assertInstanceUrlAllowed(`${scheme}://${host}:8443/gitlab`, STRICT_URL_POLICY, {
              resolver: resolvingTo(['93.184.216.34'], calls),
            }),
          );
          expect({ host, code }).toEqual({ host, code: 'URL_NOT_ALLOWED' });
          expect(calls).toEqual([]);
        },
      ),
      runs(400),
    );
  });

  it.each(FORBIDDEN_V6)('refuses the IPv6 literal [%s]', async (address) => {
    expect(await codeOf(assertInstanceUrlAllowed(`https://[${address}]/`, STRICT_URL_POLICY))).toBe(
      'URL_NOT_ALLOWED',
    );
  });

  it('refuses a host name when any address it resolves to is forbidden, in any notation', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostName,
        classAndAddress,
        fc.constantFrom('plain', 'mapped', 'mapped-hex'),
        fc.boolean(),
        async (host, { parts }, form, withPublic) => {
          const dotted = parts.join('.');
          const address =
            form === 'plain' ? dotted : form === 'mapped' ? `::ffff:${dotted}` : `::ffff:${hex(parts)}`;
          const addresses = withPublic ? ['93.184.216.34', address] : [address];
          const calls: string[] = [];
          const code = await codeOf(
            assertInstanceUrlAllowed(`https://${host}/`, STRICT_URL_POLICY, {
              resolver: resolvingTo(addresses, calls),
            }),
          );
          expect({ host, address, code }).toEqual({ host, address, code: 'URL_NOT_ALLOWED' });
          expect(calls).toEqual([host]);
        },
      ),
      runs(300),
    );
  });

  it('refuses link-local and metadata addresses even when private networks and the host are allowed', async () => {
    const lenient: UrlPolicy = { allowPrivateNetwork: true, allowedHosts: ['*.fuzz.test'] };
    await fc.assert(
      fc.asyncProperty(
        hostName,
        fc.constantFrom(...NEVER_ALLOWED_V4).chain((klass) => FORBIDDEN_V4[klass]!),
        fc.constantFrom('fe80::1', 'fe80::abcd:1', 'fd00:ec2::254'),
        fc.boolean(),
        async (host, parts, v6, useV6) => {
          const address = useV6 ? v6 : parts.join('.');
          const code = await codeOf(
            assertInstanceUrlAllowed(`https://${host}/`, lenient, { resolver: resolvingTo([address]) }),
          );
          expect({ address, code }).toEqual({ address, code: 'URL_NOT_ALLOWED' });
          if (!useV6) {
            expect(await codeOf(assertInstanceUrlAllowed(`http://${parts.join('.')}/`, lenient))).toBe(
              'URL_NOT_ALLOWED',
            );
          }
        },
      ),
      runs(200),
    );
  });

  it('admits public addresses (the matrix is not refusing everything)', async () => {
    for (const address of ['93.184.216.34', '2606:4700:4700::1111', '::ffff:93.184.216.34']) {
      expect(
        await codeOf(
          assertInstanceUrlAllowed('https://gitlab.fuzz.test/', STRICT_URL_POLICY, {
            resolver: resolvingTo([address]),
          }),
        ),
      ).toBe('ALLOWED');
    }
    expect(await codeOf(assertInstanceUrlAllowed('https://93.184.216.34/', STRICT_URL_POLICY))).toBe(
      'ALLOWED',
    );
  });

  describe('at connection time and on redirects (loopback servers only)', () => {
    let target: Server;
    let targetPort: number;
    let connections = 0;
    let redirector: Server;
    let redirectorPort: number;
    let redirectTo = '';

    beforeAll(async () => {
      target = createServer((_request, response) => response.end('{}'));
      target.on('connection', () => (connections += 1));
      redirector = createServer((_request, response) => {
        response.writeHead(302, { location: redirectTo }).end();
      });
      for (const server of [target, redirector]) {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      }
      targetPort = (target.address() as AddressInfo).port;
      redirectorPort = (redirector.address() as AddressInfo).port;
    });

    afterAll(async () => {
      for (const server of [target, redirector]) await new Promise((resolve) => server.close(resolve));
    });

    const client = (instanceUrl: string, resolver: HostResolver, policy: UrlPolicy = STRICT_URL_POLICY) =>
      createGitlabClient({
        instanceUrl,
        token: 'glpat-fuzz-matrix-token',
        policy,
        resolver,
        timeoutMs: 5_000,
        retry: { maxAttempts: 1 },
        limiterRegistry: new GitlabLimiterRegistry(),
      });

    it('never connects to a host name whose lookup gives a loopback address in any form', async () => {
      await fc.assert(
        fc.asyncProperty(
          hostName,
          fc.constantFrom('127.0.0.1', '127.0.0.2', '::ffff:127.0.0.1', '::ffff:7f00:1', '::1'),
          async (host, address) => {
            const before = connections;
            const code = await codeOf(
              client(`http://${host}:${targetPort}`, resolvingTo([address])).users.current(),
            );
            expect({ address, code }).toEqual({ address, code: 'URL_NOT_ALLOWED' });
            expect(connections).toBe(before);
          },
        ),
        runs(40),
      );
    });

    it('refuses a DNS answer that changes to loopback between the check and the connect (rebinding)', async () => {
      let lookups = 0;
      const rebinding: HostResolver = async () => [
        lookups++ === 0 ? { address: '93.184.216.34', family: 4 } : { address: '127.0.0.1', family: 4 },
      ];
      const before = connections;
      expect(await codeOf(client(`http://rebind.fuzz.test:${targetPort}`, rebinding).users.current())).toBe(
        'URL_NOT_ALLOWED',
      );
      expect(lookups).toBeGreaterThanOrEqual(2);
      expect(connections).toBe(before);
    });

    it('refuses redirects to forbidden targets, literal or by name, before connecting to them', async () => {
      const allowed: UrlPolicy = { allowPrivateNetwork: false, allowedHosts: ['gitlab.fuzz.test'] };
      const resolver: HostResolver = async (hostname) =>
        hostname === 'gitlab.fuzz.test'
          ? [{ address: '127.0.0.1', family: 4 }]
          : [{ address: '127.0.0.1', family: 4 }];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(
            `http://127.0.0.1:{port}/api/v4/user`,
            `http://127.0.0.2:{port}/api/v4/user`,
            `http://2130706433:{port}/api/v4/user`,
            `http://0x7f000001:{port}/api/v4/user`,
            `http://0177.0.0.1:{port}/api/v4/user`,
            `http://[::1]:{port}/api/v4/user`,
            `http://[::ffff:127.0.0.1]:{port}/api/v4/user`,
            `http://localhost:{port}/api/v4/user`,
            `http://evil.fuzz.test:{port}/api/v4/user`,
            `http://gitlab.fuzz.test.evil.test:{port}/`,
            `http://169.254.169.254/latest/meta-data/`,
          ),
          async (location) => {
            redirectTo = location.replace('{port}', String(targetPort));
            const before = connections;
            const code = await codeOf(
              client(`http://gitlab.fuzz.test:${redirectorPort}`, resolver, allowed).users.current(),
            );
            expect({ location, code }).toEqual({ location, code: 'URL_NOT_ALLOWED' });
            expect(connections).toBe(before);
          },
        ),
        runs(30),
      );
    });
  });
});

describe('constant-time token checks (core API guards, HTTP and gRPC)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('compares with crypto.timingSafeEqual for every configured token, whatever matches and whatever the length', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 4 }),
        fc.oneof(fc.string({ maxLength: 80 }), fc.constant('')),
        fc.nat(),
        fc.boolean(),
        (tokens, other, pick, useConfigured) => {
          const spy = jest.spyOn(crypto, 'timingSafeEqual');
          const presented = useConfigured ? tokens[pick % tokens.length]! : other;
          const accepted = presentsCoreToken(`Bearer ${presented}`, tokens);
          const calls = spy.mock.calls.length;
          spy.mockRestore();
          // One constant-time comparison per configured token: no early exit on a match, a
          // mismatch or a different length (presentsCoreToken, libs/platform/src/http/core-api.guard.ts).
          expect(calls).toBe(tokens.length);
          expect(accepted).toBe(presented !== '' && tokens.includes(presented));
        },
      ),
      runs(300),
    );
  });

  it('never returns early on a different length: the comparison runs over bytes of equal length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), fc.string({ maxLength: 100 }), (a, b) => {
        const spy = jest.spyOn(crypto, 'timingSafeEqual');
        const equal = constantTimeEqual(a, b);
        const calls = spy.mock.calls.map(([left, right]) => [left.byteLength, right.byteLength]);
        spy.mockRestore();
        expect(equal).toBe(a === b);
        expect(calls).toHaveLength(1);
        expect(calls[0]![0]).toBe(calls[0]![1]);
      }),
      runs(300),
    );
  });
});
