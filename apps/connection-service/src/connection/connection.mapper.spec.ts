import 'reflect-metadata';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { ConnectionStatusChangedV1, WebhookVerifierV1 } from '@testkase/contracts';

import { ConnectionEntity } from '../persistence/entities/connection.entity';
import { toConnectionView, toStatusChangedEvent, toVerifier } from './connection.mapper';

const token = 'glpat-abcdefghijklmnopqrstx7Qa';
const now = new Date('2026-03-01T12:00:00.000Z');

function row(overrides: Partial<ConnectionEntity> = {}): ConnectionEntity {
  return Object.assign(new ConnectionEntity(), {
    id: '6f1b2a0e-8a43-4d55-9a57-3c1f7f7d1a11',
    projectId: 'demo',
    platform: 'gitlab',
    instanceUrl: 'https://gitlab.example.com',
    gitlabProjectId: 42,
    projectPath: 'acme/platform/checkout',
    projectWebUrl: 'https://gitlab.example.com/acme/platform/checkout',
    mode: 'webhook_managed',
    status: 'active',
    tokenKeyId: 'k1',
    tokenCiphertext: 'c2VhbGVk',
    tokenHint: 'glpat-…x7Qa',
    tokenScopes: ['api'],
    tokenExpiresAt: '2026-12-31',
    tokenUserId: 7,
    tokenUsername: 'bot',
    tokenUpdatedAt: now,
    accessLevel: 40,
    caCertificate: null,
    hookId: 9,
    hookUrl: 'https://hooks.example.com/webhooks/gitlab/6f1b2a0e-8a43-4d55-9a57-3c1f7f7d1a11',
    hookSecretSha256: 'a'.repeat(64),
    hookSigningKeyId: null,
    hookSigningCiphertext: null,
    hookAlertStatus: 'executable',
    hookDisabledUntil: null,
    hookCheckedAt: now,
    hookRemoval: null,
    lastDeliveryAt: null,
    lastError: null,
    checkWarnings: [],
    authFailedAt: null,
    backfill: null,
    backfillReportedAt: null,
    healthCheckedAt: now,
    connectedAt: now,
    disconnectedAt: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });
}

describe('toConnectionView', () => {
  it('shows the project, role, hook and token facts but neither the ciphertext nor the secret hash', () => {
    const view = toConnectionView(row(), now);
    expect(view).toMatchObject({
      connectionId: row().id,
      gitlabProject: {
        id: 42,
        path: 'acme/platform/checkout',
        webUrl: 'https://gitlab.example.com/acme/platform/checkout',
      },
      status: 'active',
      statusReason: null,
      mode: 'webhook_managed',
      token: { hint: 'glpat-…x7Qa', scopes: ['api'], expiresAt: '2026-12-31', userId: 7 },
      role: { name: 'Maintainer', accessLevel: 40 },
      hook: {
        id: 9,
        state: 'executable',
        events: ['issues_events', 'confidential_issues_events', 'note_events', 'confidential_note_events'],
      },
    });
    const text = JSON.stringify(view);
    expect(text).not.toContain('c2VhbGVk');
    expect(text).not.toContain('a'.repeat(64));
    expect(text).not.toContain(token);
  });

  it('names Reporter and Developer roles and explains a manual hook awaiting its first delivery', () => {
    const view = toConnectionView(
      row({
        mode: 'webhook_manual',
        status: 'awaiting_first_delivery',
        accessLevel: 20,
        hookId: null,
        hookAlertStatus: 'manual',
      }),
      now,
    );
    expect(view.role).toEqual({ name: 'Reporter', accessLevel: 20 });
    expect(view.statusReason).toMatch(/Settings → Webhooks/);
  });

  it('shows a manual hook as polling until its first delivery, then as manual', () => {
    const manual = { mode: 'webhook_manual' as const, hookId: null, hookAlertStatus: 'manual' };
    expect(toConnectionView(row(manual), now).hook.state).toBe('polling');
    expect(toStatusChangedEvent(row(manual), null, now).hook?.alertStatus).toBe('polling');
    const delivering = row({ ...manual, lastDeliveryAt: now });
    expect(toConnectionView(delivering, now).hook.state).toBe('manual');
    expect(toStatusChangedEvent(delivering, null, now).hook?.alertStatus).toBe('manual');
    expect(toConnectionView(row({ lastDeliveryAt: null }), now).hook.state).toBe('executable');
  });

  it('lists the checks an older GitLab could not answer, and none otherwise', () => {
    expect(toConnectionView(row(), now).warnings).toEqual([]);
    const warning = {
      code: 'TOKEN_EXPIRY_UNVERIFIED',
      message: 'GitLab 15.4.0 cannot tell when this token expires',
      gitlabVersion: '15.4.0',
    };
    expect(toConnectionView(row({ checkWarnings: [warning] }), now).warnings).toEqual([warning]);
  });
});

describe('event and verifier mapping', () => {
  it('builds a status event that satisfies its contract', () => {
    const event = toStatusChangedEvent(
      row({
        status: 'token_expiring',
        tokenExpiresAt: '2026-03-10',
        backfill: {
          state: 'running',
          imported: 10,
          expected: 100,
          startedAt: now.toISOString(),
          finishedAt: null,
        },
      }),
      'active',
      now,
    );
    expect(validateSync(plainToInstance(ConnectionStatusChangedV1, event))).toEqual([]);
    expect(event).toMatchObject({
      status: 'token_expiring',
      previousStatus: 'active',
      tokenExpiresAt: '2026-03-10T00:00:00.000Z',
    });
    expect(event.reason).toMatch(/2026-03-10/);
  });

  it('publishes the secret hash and the disconnected state for the gateway', () => {
    const active = toVerifier(row(), now);
    expect(validateSync(plainToInstance(WebhookVerifierV1, active))).toEqual([]);
    expect(active).toMatchObject({ state: 'active', secretSha256: 'a'.repeat(64), signed: false });
    expect(toVerifier(row({ disconnectedAt: now }), now).state).toBe('disconnected');
    const signed = toVerifier(row({ hookSigningKeyId: 'k1', hookSigningCiphertext: 'c2VhbGVk' }), now);
    expect(signed).toMatchObject({ signed: true });
    expect(JSON.stringify(signed)).not.toContain('c2VhbGVk');
  });
});
