import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import { isValidSigningToken, standardWebhookSignature } from './signing';

describe('Standard Webhooks signing', () => {
  it('produces signatures the reference implementation verifies', () => {
    const token = `whsec_${randomBytes(32).toString('base64')}`;
    const body = JSON.stringify({ object_kind: 'issue' });
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = standardWebhookSignature(token, 'msg_1', timestamp, body);
    expect(
      new Webhook(token).verify(body, {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      }),
    ).toEqual({
      object_kind: 'issue',
    });
  });

  it('accepts only whsec_ tokens encoding 32 bytes', () => {
    expect(isValidSigningToken(`whsec_${randomBytes(32).toString('base64')}`)).toBe(true);
    expect(isValidSigningToken(`whsec_${randomBytes(16).toString('base64')}`)).toBe(false);
    expect(isValidSigningToken(randomBytes(32).toString('base64'))).toBe(false);
  });
});
