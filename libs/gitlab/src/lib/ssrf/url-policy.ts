import { promises as dns } from 'node:dns';

import { AppError } from '@testkase/util';

import { classifyAddress, isIpLiteral, isNeverAllowed } from './address-classifier';

/**
 * Which instance URLs a client may talk to. By default only hosts whose every address is public.
 * `allowPrivateNetwork` admits loopback/RFC 1918/CGNAT/unique-local addresses (for a
 * self-managed GitLab inside the network); link-local, cloud metadata, multicast, broadcast,
 * unspecified and reserved addresses stay refused. Hosts in `allowedHosts` (exact, or
 * `*.example.com` for any subdomain) skip the address check, except that link-local and metadata
 * addresses are refused for them too.
 */
export interface UrlPolicy {
  readonly allowPrivateNetwork: boolean;
  readonly allowedHosts: readonly string[];
}

export const STRICT_URL_POLICY: UrlPolicy = Object.freeze({ allowPrivateNetwork: false, allowedHosts: [] });

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a host name to every address (tests inject one; production uses the system resolver). */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: HostResolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export interface UrlCheckOptions {
  readonly resolver?: HostResolver;
}

/** `[::1]` → `::1`, `Example.COM.` → `example.com`. */
export function normalizeHostname(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

export function isHostExplicitlyAllowed(hostname: string, policy: UrlPolicy): boolean {
  const host = normalizeHostname(hostname);
  return policy.allowedHosts.some((pattern) => {
    const wanted = normalizeHostname(pattern.trim());
    if (wanted.startsWith('*.')) {
      const suffix = wanted.slice(1);
      return host.endsWith(suffix) && host.length > suffix.length;
    }
    return host === wanted;
  });
}

function notAllowed(message: string, details: Record<string, unknown>): AppError {
  return new AppError('URL_NOT_ALLOWED', message, { details });
}

/**
 * Checks scheme and credentials, without any network access. Returns the parsed URL.
 * @throws AppError URL_NOT_ALLOWED
 */
export function parseHttpUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw notAllowed('Instance URL is not a valid URL', {});
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw notAllowed(`Instance URL must use http or https, not ${parsed.protocol.replace(/:$/, '')}`, {
      scheme: parsed.protocol.replace(/:$/, ''),
    });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw notAllowed('Instance URL must not contain credentials (user:password@)', {
      host: parsed.hostname,
    });
  }
  if (parsed.hostname === '') throw notAllowed('Instance URL has no host', {});
  return parsed;
}

/**
 * Refuses any address the policy does not admit. Used on every resolution, including the one
 * made when a connection is opened.
 * @throws AppError URL_NOT_ALLOWED
 */
export function assertAddressesAllowed(
  hostname: string,
  addresses: readonly ResolvedAddress[],
  policy: UrlPolicy,
): void {
  const host = normalizeHostname(hostname);
  const explicitlyAllowed = isHostExplicitlyAllowed(hostname, policy);
  if (addresses.length === 0) {
    if (explicitlyAllowed) return;
    throw notAllowed(`Host ${host} resolves to no address`, { host });
  }
  for (const { address } of addresses) {
    const klass = classifyAddress(address);
    const { verdict, range } = klass;
    if (isNeverAllowed(klass)) {
      throw notAllowed(
        `Instance host ${host} resolves to a link-local or metadata address (${range}); this is never allowed`,
        {
          host,
          range,
        },
      );
    }
    if (explicitlyAllowed) continue;
    if (verdict === 'forbidden' || (verdict === 'private' && !policy.allowPrivateNetwork)) {
      throw notAllowed(
        `Instance host ${host} resolves to a ${verdict === 'private' ? 'private-network' : 'non-routable'} address (${range}); ` +
          'add it to the allowed hosts if this is intended',
        { host, range },
      );
    }
  }
}

/**
 * Validates an instance URL before it is stored or used: http(s) only, no credentials, and every
 * address its host resolves to (or the IP literal itself) admitted by `policy`.
 * Returns the parsed URL.
 * @throws AppError URL_NOT_ALLOWED, or INSTANCE_UNREACHABLE (transient) when DNS fails
 */
export async function assertInstanceUrlAllowed(
  url: string | URL,
  policy: UrlPolicy,
  options: UrlCheckOptions = {},
): Promise<URL> {
  const parsed = parseHttpUrl(url);
  const host = normalizeHostname(parsed.hostname);
  if (isIpLiteral(host)) {
    assertAddressesAllowed(host, [{ address: host, family: host.includes(':') ? 6 : 4 }], policy);
    return parsed;
  }
  // An allowed host is resolved too: link-local and metadata addresses are refused for it as well.
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await (options.resolver ?? systemResolver)(host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new AppError('INSTANCE_UNREACHABLE', `DNS lookup failed for ${host}`, {
      transient: true,
      details: { host, cause: 'DNS lookup failed', ...(typeof code === 'string' ? { code } : {}) },
    });
  }
  assertAddressesAllowed(host, addresses, policy);
  return parsed;
}
