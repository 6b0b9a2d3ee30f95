import { KeyRingError, parseKeyRing } from './key-ring';

const key = (fill: number, bytes = 32) => Buffer.alloc(bytes, fill).toString('base64');

describe('parseKeyRing', () => {
  it('takes the first key as the one that encrypts and keeps every key for decryption', () => {
    const ring = parseKeyRing(`k2:${key(2)}, k1:${key(1)}`);
    expect(ring.primary.id).toBe('k2');
    expect([...ring.keys.keys()]).toEqual(['k2', 'k1']);
    expect(ring.keys.get('k1')?.key).toEqual(Buffer.alloc(32, 1));
  });

  it.each([
    ['', /is required/],
    ['nocolon', /entry 1 is not keyId:base64key/],
    [`k1:${key(1)},bad id:${key(2)}`, /entry 2 has a key id/],
    [`k1:not*base64`, /key "k1" is not standard base64/],
    [`k1:${key(1, 31)}`, /key "k1" is 31 bytes; AES-256 needs exactly 32/],
    [`k1:${key(1)},k1:${key(2)}`, /key id "k1" appears twice/],
  ])('refuses %j', (text, problem) => {
    expect(() => parseKeyRing(text)).toThrow(KeyRingError);
    expect(() => parseKeyRing(text)).toThrow(problem);
  });

  it('never puts key material in its messages', () => {
    const secretKey = key(9, 31);
    try {
      parseKeyRing(`k1:${secretKey}`);
      throw new Error('expected a KeyRingError');
    } catch (error) {
      expect((error as Error).message).not.toContain(secretKey);
    }
  });
});
