import { parseKeyRing } from './key-ring';
import { TokenCipher } from './token-cipher';

const k1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
const k2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`;
const token = 'glpat-abcdefghijklmnopqrstuvwx7Qa';
const connectionId = '6f1b2a0e-8a43-4d55-9a57-3c1f7f7d1a11';
const otherConnectionId = '0c9e3f7a-2b1d-4c8e-9f6a-5d4b3a2c1e0f';

describe('TokenCipher', () => {
  const cipher = new TokenCipher(parseKeyRing(k1));

  it('round-trips a token and stores the key id with the ciphertext', () => {
    const sealed = cipher.encrypt(token, connectionId);
    expect(sealed.keyId).toBe('k1');
    expect(sealed.ciphertext).not.toContain(token);
    expect(Buffer.from(sealed.ciphertext, 'base64').toString('latin1')).not.toContain(token);
    expect(cipher.decrypt(sealed, connectionId)).toBe(token);
  });

  it('uses a fresh IV each time, so equal tokens do not give equal ciphertexts', () => {
    expect(cipher.encrypt(token, connectionId).ciphertext).not.toBe(
      cipher.encrypt(token, connectionId).ciphertext,
    );
  });

  it('binds the ciphertext to its connection: it does not decrypt on another connection', () => {
    const sealed = cipher.encrypt(token, connectionId);
    expect(() => cipher.decrypt(sealed, otherConnectionId)).toThrow(/does not authenticate/);
  });

  it('detects a tampered ciphertext', () => {
    const sealed = cipher.encrypt(token, connectionId);
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    raw[raw.length - 1] ^= 0x01;
    expect(() => cipher.decrypt({ ...sealed, ciphertext: raw.toString('base64') }, connectionId)).toThrow(
      /does not authenticate/,
    );
  });

  it('decrypts with an older key of the ring and encrypts with the first one', () => {
    const sealedWithK1 = cipher.encrypt(token, connectionId);
    const rotated = new TokenCipher(parseKeyRing(`${k2},${k1}`));
    expect(rotated.decrypt(sealedWithK1, connectionId)).toBe(token);
    expect(rotated.isStale(sealedWithK1.keyId)).toBe(true);
    const resealed = rotated.encrypt(token, connectionId);
    expect(resealed.keyId).toBe('k2');
    expect(rotated.isStale(resealed.keyId)).toBe(false);
  });

  it('names a key that is missing from the ring', () => {
    const sealed = new TokenCipher(parseKeyRing(k2)).encrypt(token, connectionId);
    expect(() => cipher.decrypt(sealed, connectionId)).toThrow(
      /key "k2", which is not in TOKEN_ENCRYPTION_KEYS/,
    );
  });
});
