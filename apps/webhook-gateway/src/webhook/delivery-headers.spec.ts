import 'reflect-metadata';

import { createHash } from 'node:crypto';

import { messageHeaders, messageIdOf } from './delivery-headers';

const CONNECTION = '0b3e3f5e-8a43-4c62-9a59-6f0f7f0f2a11';
const body = Buffer.from('{"object_kind":"issue"}');

describe('messageHeaders', () => {
  const request = {
    'content-type': 'application/json',
    'user-agent': 'GitLab/18.6.0',
    'x-gitlab-event': 'Issue Hook',
    'x-gitlab-event-uuid': 'e1',
    'x-gitlab-webhook-uuid': 'w1',
    'x-gitlab-instance': 'https://gitlab.example.com',
    'idempotency-key': 'k1',
    'x-gitlab-token': 'hook-secret',
    'webhook-id': 'k1',
    'webhook-timestamp': '1700000000',
    'webhook-signature': 'v1,abc',
    'x-custom': 'not forwarded',
  };

  it('carries the GitLab delivery headers, the receive time and the trace context', () => {
    expect(messageHeaders(request, '2026-11-25T08:00:00.000Z', { traceparent: '00-a-b-00' })).toEqual({
      'user-agent': 'GitLab/18.6.0',
      'x-gitlab-event': 'Issue Hook',
      'x-gitlab-event-uuid': 'e1',
      'x-gitlab-webhook-uuid': 'w1',
      'x-gitlab-instance': 'https://gitlab.example.com',
      'idempotency-key': 'k1',
      'x-received-at': '2026-11-25T08:00:00.000Z',
      traceparent: '00-a-b-00',
    });
  });

  it('never carries the token or the signature', () => {
    const headers = messageHeaders(request, 'now', {});
    expect(JSON.stringify(headers)).not.toContain('hook-secret');
    expect(Object.keys(headers)).not.toEqual(expect.arrayContaining(['webhook-signature']));
  });

  it('drops repeated, over-long and multi-line values', () => {
    const headers = messageHeaders(
      {
        'x-gitlab-event': ['Issue Hook', 'Note Hook'],
        'user-agent': 'x'.repeat(600),
        'x-gitlab-instance': 'a\nb',
      },
      'now',
      {},
    );
    expect(headers).toEqual({ 'x-received-at': 'now' });
  });
});

describe('messageIdOf', () => {
  it('prefers Idempotency-Key, then X-Gitlab-Event-UUID, namespaced by connection and kind', () => {
    expect(
      messageIdOf({ 'idempotency-key': 'k1', 'x-gitlab-event-uuid': 'e1' }, CONNECTION, 'issue', body),
    ).toBe(`${CONNECTION}:issue:k1`);
    const bodyHash = createHash('sha256').update(`${CONNECTION}:`).update(body).digest('hex');
    expect(messageIdOf({ 'x-gitlab-event-uuid': 'e1' }, CONNECTION, 'note', body)).toBe(
      `${CONNECTION}:note:e1:${bodyHash.slice(0, 32)}`,
    );
  });

  it('tells apart two deliveries of one kind that share an X-Gitlab-Event-UUID (one GitLab request)', () => {
    const update = Buffer.from('{"object_kind":"issue","object_attributes":{"action":"update"}}');
    expect(messageIdOf({ 'x-gitlab-event-uuid': 'e1' }, CONNECTION, 'issue', update)).not.toBe(
      messageIdOf({ 'x-gitlab-event-uuid': 'e1' }, CONNECTION, 'issue', body),
    );
  });

  it('takes the signed webhook-id of a signed hook over the unsigned Idempotency-Key', () => {
    expect(messageIdOf({ 'idempotency-key': 'forged' }, CONNECTION, 'issue', body, 'w1')).toBe(
      `${CONNECTION}:issue:w1`,
    );
  });

  it('hashes the connection id and the body when GitLab sent neither (before 14.8)', () => {
    const expected = createHash('sha256').update(`${CONNECTION}:`).update(body).digest('hex');
    expect(messageIdOf({}, CONNECTION, 'issue', body)).toBe(`${CONNECTION}:issue:sha256:${expected}`);
    expect(messageIdOf({}, CONNECTION, 'issue', body)).toBe(
      messageIdOf({}, CONNECTION, 'issue', Buffer.from(body)),
    );
    expect(messageIdOf({}, '9d4c1a52-6e4b-4d9e-8a43-2f0e4c7d1b20', 'issue', body)).not.toBe(
      messageIdOf({}, CONNECTION, 'issue', body),
    );
  });

  it('hashes a key too long to be a message id', () => {
    const id = messageIdOf({ 'idempotency-key': 'k'.repeat(200) }, CONNECTION, 'issue', body);
    expect(id).toMatch(new RegExp(`^${CONNECTION}:issue:sha256:[0-9a-f]{64}$`));
  });
});
