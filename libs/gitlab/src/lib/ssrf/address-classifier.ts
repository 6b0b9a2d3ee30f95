import ipaddr from 'ipaddr.js';

/**
 * `public`: routable on the internet. `private`: inside some local network (loopback, RFC 1918,
 * CGNAT, unique-local); allowed only when the policy allows private networks.
 * `forbidden`: never a GitLab instance (link-local 169.254.0.0/16 and fe80::/10, where cloud
 * credential endpoints live, cloud metadata, unspecified, multicast, broadcast,
 * documentation/benchmark/reserved ranges, Teredo).
 */
export type AddressVerdict = 'public' | 'private' | 'forbidden';

export interface AddressClass {
  readonly verdict: AddressVerdict;
  /** ipaddr.js range name, or `metadata` / `invalid`. */
  readonly range: string;
}

/** Cloud metadata services: AWS/GCP/Azure/OpenStack, AWS IMDS over IPv6, Alibaba Cloud. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);

const PRIVATE_IPV4_RANGES = new Set(['loopback', 'private', 'carrierGradeNat']);
const PRIVATE_IPV6_RANGES = new Set(['loopback', 'uniqueLocal', 'deprecatedSiteLocal']);

/**
 * Ranges no policy admits, not even an allowed host (docs/ARCHITECTURE.md, "Configuration"):
 * link-local (ipaddr.js `linkLocal`: 169.254.0.0/16, fe80::/10) and the metadata addresses.
 */
export function isNeverAllowed(klass: AddressClass): boolean {
  return klass.range === 'linkLocal' || klass.range === 'metadata';
}

const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
/** Deprecated IPv4-compatible addresses (`::a.b.c.d`, which URL parsing turns into `::7f00:1`). */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');
/** IETF-reserved; ipaddr.js reports the rest of it as plain unicast. */
const ZERO_PREFIX = ipaddr.IPv6.parseCIDR('::/8');

function embeddedIpv4(parts: readonly number[], high: number, low: number): ipaddr.IPv4 {
  const hi = parts[high] ?? 0;
  const lo = parts[low] ?? 0;
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

function classifyIpv4(address: ipaddr.IPv4): AddressClass {
  if (METADATA_ADDRESSES.has(address.toString())) return { verdict: 'forbidden', range: 'metadata' };
  const range = address.range();
  if (range === 'unicast') return { verdict: 'public', range };
  return { verdict: PRIVATE_IPV4_RANGES.has(range) ? 'private' : 'forbidden', range };
}

function classifyIpv6(address: ipaddr.IPv6): AddressClass {
  if (METADATA_ADDRESSES.has(address.toString())) return { verdict: 'forbidden', range: 'metadata' };
  const range = address.range();
  const parts = address.parts;
  switch (range) {
    case 'unicast':
      if (address.match(IPV4_COMPATIBLE)) return classifyIpv4(embeddedIpv4(parts, 6, 7));
      if (address.match(ZERO_PREFIX)) return { verdict: 'forbidden', range: 'reserved' };
      return { verdict: 'public', range };
    // Translation prefixes carry an IPv4 address inside: judge the address it reaches.
    case 'rfc6052':
      return address.match(NAT64_WELL_KNOWN)
        ? classifyIpv4(embeddedIpv4(parts, 6, 7))
        : { verdict: 'private', range: 'rfc8215LocalUseNat64' };
    case 'rfc6145':
      return classifyIpv4(embeddedIpv4(parts, 6, 7));
    case '6to4':
      return classifyIpv4(embeddedIpv4(parts, 1, 2));
    default:
      return { verdict: PRIVATE_IPV6_RANGES.has(range) ? 'private' : 'forbidden', range };
  }
}

/** Classifies an IP address string in any notation (IPv4, IPv6, IPv4-mapped/compatible IPv6). */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return { verdict: 'forbidden', range: 'invalid' };
  // process() turns IPv4-mapped (and IPv4-compatible) IPv6 into the IPv4 address it stands for.
  const parsed = ipaddr.process(bare);
  return parsed.kind() === 'ipv4' ? classifyIpv4(parsed as ipaddr.IPv4) : classifyIpv6(parsed as ipaddr.IPv6);
}

export function isIpLiteral(hostname: string): boolean {
  return ipaddr.isValid(hostname.replace(/^\[|\]$/g, ''));
}
