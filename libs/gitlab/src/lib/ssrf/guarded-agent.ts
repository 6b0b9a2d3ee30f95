import type { LookupAddress, LookupOptions } from 'node:dns';
import { rootCertificates } from 'node:tls';

import { Agent } from 'undici';

import { assertAddressesAllowed, type HostResolver, type UrlPolicy } from './url-policy';

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect that resolves with `resolver` and refuses the connection when any
 * address is outside `policy`. Checking here, at connection time, is what defeats DNS rebinding:
 * the address connected to is the address checked.
 */
export function createGuardedLookup(policy: UrlPolicy, resolver: HostResolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolver(hostname)
      .then((resolved) => {
        assertAddressesAllowed(hostname, resolved, policy);
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const addresses = resolved
          .filter((a) => wanted === 0 || a.family === wanted)
          .map((a) => ({ address: a.address, family: a.family }));
        if (addresses.length === 0) {
          callback(
            Object.assign(new Error(`no IPv${wanted} address for ${hostname}`), { code: 'ENOTFOUND' }),
            [],
          );
          return;
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      })
      .catch((error: Error) => callback(error, []));
  };
}

export interface GuardedAgentOptions {
  readonly policy: UrlPolicy;
  readonly resolver: HostResolver;
  /** PEM. Trusted in addition to the public roots, so verification stays on. */
  readonly caCertificate?: string;
  readonly connectTimeoutMs: number;
}

/** The undici dispatcher every request of a client goes through. */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  return new Agent({
    connect: {
      lookup: createGuardedLookup(options.policy, options.resolver),
      timeout: options.connectTimeoutMs,
      ...(options.caCertificate ? { ca: [...rootCertificates, options.caCertificate] } : {}),
    },
  });
}
