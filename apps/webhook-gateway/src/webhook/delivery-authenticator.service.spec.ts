import 'reflect-metadata';

import crypto, { createHash, randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import { contractFixtures } from '@testkase/contracts';

import { DeliveryAuthenticator } from './delivery-authenticator.service';
import { toCachedVerifier, type CachedVerifier, type WebhookVerifierStore } from './verifier-store.service';
import { signingKeyOf } from './webhook-signature';

const CONNECTION = '0b3e3f5e-8a43-4c62-9a59-6f0f7f0f2a11';
const TOKEN = 'the-hook-secret';

const verifier = (state: 'active' | 'disconnected'): CachedVerifier =>
  toCachedVerifier({
    ...contractFixtures.webhookVerifierFixture,
    connectionId: CONNECTION,
    state,
    secretSha256: createHash('sha256').update(TOKEN).digest('hex'),
  })!;

function storeWith(entries: Record<string, CachedVerifier>, asynchronous = false) {
  const find = jest.fn((id: string) => (asynchronous ? Promise.resolve(entries[id]) : entries[id]));
  const recordRefusal = jest.fn();
  return { store: { find, recordRefusal } as unknown as WebhookVerifierStore, find, recordRefusal };
}

describe('DeliveryAuthenticator.checkToken', () => {
  const active = verifier('active');

  it('does the same constant-time work for every token and id: two 32-byte timingSafeEqual (issue 14)', () => {
    const { store } = storeWith({ [CONNECTION]: active });
    const authenticator = new DeliveryAuthenticator(store, 300_000);
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      for (const [id, token] of [
        [CONNECTION, TOKEN],
        [CONNECTION, TOKEN.slice(0, 3)],
        [CONNECTION, `${TOKEN}${'x'.repeat(5_000)}`],
        [CONNECTION, undefined],
        ['0b3e3f5e-8a43-4c62-9a59-000000000000', TOKEN],
        ['not-a-uuid', TOKEN],
      ] as const) {
        spy.mockClear();
        void authenticator.checkToken(id, token);
        // No early exit on a length, an unknown id or a mismatch: the digests are always compared.
        expect(spy.mock.calls.map(([a, b]) => [a.byteLength, b.byteLength])).toEqual([
          [32, 32],
          [32, 32],
        ]);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('admits the right token for an active connection', () => {
    const { store } = storeWith({ [CONNECTION]: active });
    expect(new DeliveryAuthenticator(store, 300_000).checkToken(CONNECTION, TOKEN)).toBe(active);
  });

  it('admits after a lookup when the connection is new to the gateway', async () => {
    const { store } = storeWith({ [CONNECTION]: active }, true);
    await expect(new DeliveryAuthenticator(store, 300_000).checkToken(CONNECTION, TOKEN)).resolves.toBe(
      active,
    );
  });

  it.each([
    ['a wrong token', TOKEN.slice(1)],
    ['a missing token', undefined],
    ['an empty token', ''],
    ['a repeated header', [TOKEN, TOKEN]],
  ])('refuses %s', (_case, token) => {
    const { store } = storeWith({ [CONNECTION]: active });
    expect(new DeliveryAuthenticator(store, 300_000).checkToken(CONNECTION, token)).toBeUndefined();
  });

  it('refuses the right token of a disconnected connection', () => {
    const { store } = storeWith({ [CONNECTION]: verifier('disconnected') });
    expect(new DeliveryAuthenticator(store, 300_000).checkToken(CONNECTION, TOKEN)).toBeUndefined();
  });

  it('refuses an unknown connection', async () => {
    const { store } = storeWith({}, true);
    await expect(
      new DeliveryAuthenticator(store, 300_000).checkToken('9d4c1a52-6e4b-4d9e-8a43-2f0e4c7d1b20', TOKEN),
    ).resolves.toBeUndefined();
  });

  it('refuses a malformed connection id without looking it up', () => {
    const { store, find } = storeWith({ [CONNECTION]: active });
    const authenticator = new DeliveryAuthenticator(store, 300_000);
    expect(authenticator.checkToken('../../etc/passwd', TOKEN)).toBeUndefined();
    expect(authenticator.checkToken(`${CONNECTION}x`, TOKEN)).toBeUndefined();
    expect(find).not.toHaveBeenCalled();
  });

  it('accepts the id in upper case, as the same connection', () => {
    const { store } = storeWith({ [CONNECTION]: active });
    expect(new DeliveryAuthenticator(store, 300_000).checkToken(CONNECTION.toUpperCase(), TOKEN)).toBe(
      active,
    );
  });
});

describe('toCachedVerifier', () => {
  it('keeps what authentication needs from a valid entry', () => {
    expect(toCachedVerifier(contractFixtures.webhookVerifierFixture)).toEqual({
      connectionId: contractFixtures.webhookVerifierFixture.connectionId,
      active: true,
      secretHash: Buffer.from('a'.repeat(64), 'hex'),
      signed: false,
      updatedAt: contractFixtures.webhookVerifierFixture.updatedAt,
    });
  });

  it.each([
    ['a hash that is not sha256 hex', { secretSha256: 'x'.repeat(64) }],
    ['an unknown state', { state: 'paused' }],
    ['a missing flag', { signed: undefined }],
  ])('refuses %s', (_case, change) => {
    expect(toCachedVerifier({ ...contractFixtures.webhookVerifierFixture, ...change })).toBeUndefined();
  });

  it('refuses what is not an object', () => {
    expect(toCachedVerifier('active')).toBeUndefined();
    expect(toCachedVerifier(null)).toBeUndefined();
  });
});

describe('DeliveryAuthenticator: rotation grace and refused deliveries', () => {
  const OLD = 'the-old-secret';
  const rotating = (previousUntil: string): CachedVerifier =>
    toCachedVerifier({
      ...contractFixtures.webhookVerifierFixture,
      connectionId: CONNECTION,
      secretSha256: createHash('sha256').update(TOKEN).digest('hex'),
      previousSecretSha256: createHash('sha256').update(OLD).digest('hex'),
      previousUntil,
    })!;

  it('admits the previous secret until previousUntil, and only the current one after', () => {
    const inGrace = rotating(new Date(Date.now() + 60_000).toISOString());
    const expired = rotating(new Date(Date.now() - 1).toISOString());
    const grace = storeWith({ [CONNECTION]: inGrace });
    expect(new DeliveryAuthenticator(grace.store, 300_000).checkToken(CONNECTION, OLD)).toBe(inGrace);
    expect(new DeliveryAuthenticator(grace.store, 300_000).checkToken(CONNECTION, TOKEN)).toBe(inGrace);
    const after = storeWith({ [CONNECTION]: expired });
    expect(new DeliveryAuthenticator(after.store, 300_000).checkToken(CONNECTION, OLD)).toBeUndefined();
    expect(new DeliveryAuthenticator(after.store, 300_000).checkToken(CONNECTION, TOKEN)).toBe(expired);
  });

  it('counts a wrong token of a known active connection as refused, never one of an unknown id', () => {
    const { store, recordRefusal } = storeWith({ [CONNECTION]: verifier('active') });
    const authenticator = new DeliveryAuthenticator(store, 300_000);
    void authenticator.checkToken(CONNECTION, 'edited-in-gitlab');
    void authenticator.checkToken('7f1e3f5e-8a43-4c62-9a59-6f0f7f0f2a11', 'edited-in-gitlab');
    void authenticator.checkToken(CONNECTION, TOKEN);
    expect(recordRefusal).toHaveBeenCalledTimes(1);
  });
});

describe('DeliveryAuthenticator.checkSignature during a rotation', () => {
  const oldToken = `whsec_${randomBytes(32).toString('base64')}`;
  const newToken = `whsec_${randomBytes(32).toString('base64')}`;
  const body = Buffer.from('{"object_kind":"issue"}');
  const headersSignedWith = (token: string) => {
    const at = new Date();
    return {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(token).sign('msg_1', at, body.toString('utf8')),
    };
  };
  const rotated = (previousUntil: number): CachedVerifier => ({
    ...toCachedVerifier({
      ...contractFixtures.webhookVerifierFixture,
      connectionId: CONNECTION,
      signed: true,
    })!,
    previousUntil,
    previousSigningKey: signingKeyOf(oldToken)!,
  });
  const authenticatorFor = () => {
    const recordRefusal = jest.fn();
    const store = {
      signingKey: async () => signingKeyOf(newToken),
      recordRefusal,
    } as unknown as WebhookVerifierStore;
    return { authenticator: new DeliveryAuthenticator(store, 300_000), recordRefusal };
  };

  it('accepts the key GitLab signed with before the rotation until previousUntil', async () => {
    const { authenticator, recordRefusal } = authenticatorFor();
    const inGrace = rotated(Date.now() + 60_000);
    await expect(authenticator.checkSignature(inGrace, headersSignedWith(newToken), body)).resolves.toBe(
      'valid',
    );
    await expect(authenticator.checkSignature(inGrace, headersSignedWith(oldToken), body)).resolves.toBe(
      'valid',
    );
    const after = rotated(Date.now() - 1);
    await expect(authenticator.checkSignature(after, headersSignedWith(oldToken), body)).resolves.toBe(
      'mismatch',
    );
    expect(recordRefusal).toHaveBeenCalledTimes(1);
  });
});
