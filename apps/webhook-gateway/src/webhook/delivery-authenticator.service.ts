import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import type { CachedVerifier, WebhookVerifierStore } from './verifier-store.service';
import { verifySignature, type SignatureCheck } from './webhook-signature';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Compared against when there is no real hash, so that every 401 costs the same work. */
const DUMMY_HASH = createHash('sha256').update('no connection has this secret').digest();

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Authenticates deliveries: `X-Gitlab-Token` against the connection's secret hash in constant
 * time, and for signed hooks the Standard Webhooks signature. A malformed or unknown connection id,
 * a disconnected connection and a wrong or missing token all end the same way (a dummy comparison
 * included), so a caller learns nothing from which one it was.
 */
export class DeliveryAuthenticator {
  constructor(
    private readonly verifiers: WebhookVerifierStore,
    private readonly signatureToleranceMs: number,
  ) {}

  /** The connection's verifier when the token is right; synchronous unless the connection is new. */
  checkToken(
    connectionId: string,
    token: string | string[] | undefined,
  ): CachedVerifier | undefined | Promise<CachedVerifier | undefined> {
    const found = UUID.test(connectionId) ? this.verifiers.find(connectionId.toLowerCase()) : undefined;
    return found instanceof Promise
      ? found.then((verifier) => this.compare(verifier, token))
      : this.compare(found, token);
  }

  private compare(verifier: CachedVerifier | undefined, token: string | string[] | undefined) {
    const usable = verifier?.active ? verifier : undefined;
    const presented = sha256(typeof token === 'string' ? token : '');
    const equal = timingSafeEqual(presented, usable?.secretHash ?? DUMMY_HASH);
    return usable && equal && typeof token === 'string' && token.length > 0 ? usable : undefined;
  }

  /** `unavailable` when the hook is signed but its key cannot be had from connection-service now. */
  async checkSignature(
    verifier: CachedVerifier,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<SignatureCheck | 'unavailable'> {
    const key = await this.verifiers.signingKey(verifier);
    if (!key) return 'unavailable';
    return verifySignature(
      key,
      {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
      },
      Date.now(),
      this.signatureToleranceMs,
    );
  }
}
