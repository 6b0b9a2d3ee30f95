import 'reflect-metadata';

import { createHash } from 'node:crypto';

import { contractFixtures } from '@testkase/contracts';

import { DeliveryAuthenticator } from './delivery-authenticator.service';
import { toCachedVerifier, type CachedVerifier, type WebhookVerifierStore } from './verifier-store.service';

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
  return { store: { find } as unknown as WebhookVerifierStore, find };
}

describe('DeliveryAuthenticator.checkToken', () => {
  const active = verifier('active');

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
