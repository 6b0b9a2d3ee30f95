import { deriveStatus, type StatusFacts } from './connection-status';

const now = new Date('2026-03-01T12:00:00.000Z');
const healthy: StatusFacts = {
  mode: 'webhook_managed',
  disconnectedAt: null,
  authFailedAt: null,
  hookAlertStatus: 'executable',
  hookDisabledUntil: null,
  lastDeliveryAt: null,
  tokenExpiresAt: '2027-01-01',
};

describe('deriveStatus', () => {
  it('is active for a managed hook that works and a token far from expiry', () => {
    expect(deriveStatus(healthy, now)).toEqual({ status: 'active', reason: null });
  });

  it('warns 14 days before the token expires, not 15', () => {
    expect(deriveStatus({ ...healthy, tokenExpiresAt: '2026-03-15' }, now).status).toBe('token_expiring');
    expect(deriveStatus({ ...healthy, tokenExpiresAt: '2026-03-16' }, now).status).toBe('active');
    expect(deriveStatus({ ...healthy, tokenExpiresAt: null }, now).status).toBe('active');
  });

  it.each(['temporarily_disabled', 'disabled', 'missing'])(
    'reports a %s hook as hook_disabled',
    (alertStatus) => {
      const derived = deriveStatus({ ...healthy, hookAlertStatus: alertStatus }, now);
      expect(derived.status).toBe('hook_disabled');
      expect(derived.reason).toMatch(alertStatus === 'missing' ? /missing/ : new RegExp(alertStatus));
    },
  );

  it('waits for the first delivery of a manual hook, then is active', () => {
    const manual = { ...healthy, mode: 'webhook_manual' as const, hookAlertStatus: 'manual' };
    expect(deriveStatus(manual, now).status).toBe('awaiting_first_delivery');
    expect(deriveStatus({ ...manual, lastDeliveryAt: now }, now).status).toBe('active');
  });

  it('puts the more serious condition first', () => {
    const everythingWrong: StatusFacts = {
      ...healthy,
      authFailedAt: now,
      hookAlertStatus: 'disabled',
      tokenExpiresAt: '2026-03-02',
    };
    expect(deriveStatus(everythingWrong, now).status).toBe('auth_failed');
    expect(deriveStatus({ ...everythingWrong, authFailedAt: null }, now).status).toBe('hook_disabled');
    expect(deriveStatus({ ...everythingWrong, disconnectedAt: now }, now).status).toBe('disconnected');
  });
});
