import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import type { CachedVerifier, WebhookVerifierStore } from './verifier-store.service';
import { verifySignature, type SignatureCheck } from './webhook-signature';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Compared against when there is no real hash, so that every 401 costs the same work. */
const DUMMY_HASH = hash('sha256', 'no connection has this secret', 'buffer');

/** One-shot: no Hash object per request (as `createHash` makes). */
const sha256 = (text: string) => hash('sha256', text, 'buffer');

/**
 * Authenticates deliveries: `X-Gitlab-Token` against the connection's secret hash in constant
 * time, and for signed hooks the Standard Webhooks signature. A malformed or unknown connection id,
 * a disconnected connection and a wrong or missing token all end the same way (a dummy comparison
 * included), so a caller learns nothing from which one it was. Refusals of a known, active
 * connection are counted (the store reports them as `integration.webhook.deliveries_refused`).
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
    const current = timingSafeEqual(presented, usable?.secretHash ?? DUMMY_HASH);
    // The secret before a rotation, during its grace period; compared every time, so that every
    // refusal does the same work.
    const inGrace = usable?.previousSecretHash !== undefined && (usable.previousUntil ?? 0) > Date.now();
    const previous = timingSafeEqual(presented, (inGrace && usable?.previousSecretHash) || DUMMY_HASH);
    if (!usable) return undefined;
    if ((current || (inGrace && previous)) && typeof token === 'string' && token.length > 0) return usable;
    this.verifiers.recordRefusal(usable);
    return undefined;
  }

  /** `unavailable` when the hook is signed but its key cannot be had from connection-service now. */
  async checkSignature(
    verifier: CachedVerifier,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<SignatureCheck | 'unavailable'> {
    const key = await this.verifiers.signingKey(verifier);
    if (!key) return 'unavailable';
    const delivery = {
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
      body,
    };
    const now = Date.now();
    let check = verifySignature(key, delivery, now, this.signatureToleranceMs);
    // During a rotation's grace period GitLab may still sign with the key it had before.
    if (check === 'mismatch' && verifier.previousSigningKey && (verifier.previousUntil ?? 0) > now) {
      check = verifySignature(verifier.previousSigningKey, delivery, now, this.signatureToleranceMs);
    }
    // A stale timestamp is a replay, not a sign that GitLab signs with another key.
    if (check === 'mismatch' || check === 'missing') this.verifiers.recordRefusal(verifier);
    return check;
  }
}
