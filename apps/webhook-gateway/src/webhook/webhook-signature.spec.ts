import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import { signingKeyOf, verifySignature } from './webhook-signature';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const key = signingKeyOf(secret)!;
const body = Buffer.from('{"object_kind":"issue","title":"Ünïcödé"}');
const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const TOLERANCE = 5 * 60_000;

/** Signs as GitLab does, with the reference implementation of the spec. */
function sign(at: Date, payload = body, signingSecret = secret): string {
  return new Webhook(signingSecret).sign(id, at, payload.toString('utf8'));
}

describe('verifySignature (Standard Webhooks)', () => {
  const now = Date.now();
  const timestamp = String(Math.floor(now / 1000));

  it('accepts a signature made by the reference implementation', () => {
    expect(
      verifySignature(key, { id, timestamp, signature: sign(new Date(now)), body }, now, TOLERANCE),
    ).toBe('valid');
  });

  it('accepts when any of several space-separated signatures matches', () => {
    const other = sign(new Date(now), body, `whsec_${randomBytes(32).toString('base64')}`);
    const signature = `${other} v1a,ignored ${sign(new Date(now))}`;
    expect(verifySignature(key, { id, timestamp, signature, body }, now, TOLERANCE)).toBe('valid');
  });

  it('refuses a signature of another body, another key or another id', () => {
    const signature = sign(new Date(now));
    expect(verifySignature(key, { id, timestamp, signature, body: Buffer.from('{}') }, now, TOLERANCE)).toBe(
      'mismatch',
    );
    expect(
      verifySignature(
        signingKeyOf(`whsec_${randomBytes(32).toString('base64')}`)!,
        { id, timestamp, signature, body },
        now,
        TOLERANCE,
      ),
    ).toBe('mismatch');
    expect(verifySignature(key, { id: 'other', timestamp, signature, body }, now, TOLERANCE)).toBe(
      'mismatch',
    );
    expect(
      verifySignature(key, { id, timestamp, signature: 'v1,bm90IGEgc2lnbmF0dXJl', body }, now, TOLERANCE),
    ).toBe('mismatch');
  });

  it('refuses a timestamp more than the tolerance away, either way', () => {
    for (const offset of [-TOLERANCE - 1_000, TOLERANCE + 1_000]) {
      const at = new Date(now + offset);
      const stamp = String(Math.floor(at.getTime() / 1000));
      expect(verifySignature(key, { id, timestamp: stamp, signature: sign(at), body }, now, TOLERANCE)).toBe(
        'stale',
      );
    }
  });

  it('refuses missing or malformed headers', () => {
    const signature = sign(new Date(now));
    expect(verifySignature(key, { id: undefined, timestamp, signature, body }, now, TOLERANCE)).toBe(
      'missing',
    );
    expect(verifySignature(key, { id, timestamp: undefined, signature, body }, now, TOLERANCE)).toBe(
      'missing',
    );
    expect(verifySignature(key, { id, timestamp, signature: undefined, body }, now, TOLERANCE)).toBe(
      'missing',
    );
    expect(verifySignature(key, { id, timestamp: '17e8', signature, body }, now, TOLERANCE)).toBe('missing');
    expect(
      verifySignature(key, { id, timestamp, signature: [signature, signature], body }, now, TOLERANCE),
    ).toBe('missing');
  });
});

describe('signingKeyOf', () => {
  it('decodes the base64 key of a whsec_ token', () => {
    const raw = randomBytes(32);
    expect(signingKeyOf(`whsec_${raw.toString('base64')}`)).toEqual(raw);
  });

  it('refuses anything else', () => {
    expect(signingKeyOf('glpat-abcdef')).toBeUndefined();
    expect(signingKeyOf('whsec_')).toBeUndefined();
    expect(signingKeyOf('whsec_not base64!')).toBeUndefined();
  });
});
