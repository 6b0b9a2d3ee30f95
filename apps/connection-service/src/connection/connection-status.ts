import type { ConnectionMode, ConnectionStatus } from '@testkase/contracts';

export const TOKEN_EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The facts a connection's status follows from. */
export interface StatusFacts {
  readonly mode: ConnectionMode;
  readonly disconnectedAt: Date | null;
  readonly authFailedAt: Date | null;
  /** GitLab's alert_status, `missing`, or `manual`. */
  readonly hookAlertStatus: string;
  readonly hookDisabledUntil: Date | null;
  readonly lastDeliveryAt: Date | null;
  /** `YYYY-MM-DD`; GitLab treats a token as expired from the start of that day (UTC). */
  readonly tokenExpiresAt: string | null;
}

export interface DerivedStatus {
  readonly status: ConnectionStatus;
  /** Why, in words an admin can act on; null when active. */
  readonly reason: string | null;
}

/**
 * The hook state a connection shows: GitLab's alert_status, `missing`, `manual` (a hook the
 * project's admin added, delivering), or `polling`: a manual hook that has not delivered yet, while
 * requirement-sync polls GitLab for changes every POLL_INTERVAL_NO_HOOK (docs/ARCHITECTURE.md,
 * "HTTP and gRPC"). The first delivery the gateway reports ends both.
 */
export function hookStateOf(facts: Pick<StatusFacts, 'mode' | 'hookAlertStatus' | 'lastDeliveryAt'>): string {
  return facts.mode === 'webhook_manual' && !facts.lastDeliveryAt ? 'polling' : facts.hookAlertStatus;
}

/** Start of the expiry day, UTC. */
export const tokenExpiryInstant = (expiresAt: string): Date => new Date(`${expiresAt}T00:00:00.000Z`);

/**
 * The one status a connection shows, most serious first: disconnected, auth_failed, hook_disabled,
 * awaiting_first_delivery (manual hook, nothing received yet), token_expiring, active.
 */
export function deriveStatus(facts: StatusFacts, now: Date): DerivedStatus {
  if (facts.disconnectedAt) return { status: 'disconnected', reason: 'Disconnected' };
  if (facts.authFailedAt) {
    return {
      status: 'auth_failed',
      reason: 'GitLab refused the token (401): rotate it with PUT …/connection/token',
    };
  }
  if (
    facts.mode === 'webhook_managed' &&
    ['temporarily_disabled', 'disabled', 'missing'].includes(facts.hookAlertStatus)
  ) {
    const until = facts.hookDisabledUntil ? ` until ${facts.hookDisabledUntil.toISOString()}` : '';
    return {
      status: 'hook_disabled',
      reason:
        facts.hookAlertStatus === 'missing'
          ? 'The GitLab webhook is missing; it is being recreated'
          : `GitLab disabled the webhook (${facts.hookAlertStatus}${until}); it is being re-enabled`,
    };
  }
  if (facts.mode === 'webhook_manual' && !facts.lastDeliveryAt) {
    return {
      status: 'awaiting_first_delivery',
      reason:
        'Add the webhook in GitLab (Settings → Webhooks) with the URL, secret and events given at connect time; until it delivers, changes are polled',
    };
  }
  if (facts.tokenExpiresAt) {
    const remainingMs = tokenExpiryInstant(facts.tokenExpiresAt).getTime() - now.getTime();
    if (remainingMs <= TOKEN_EXPIRY_WARNING_DAYS * DAY_MS) {
      return {
        status: 'token_expiring',
        reason: `The GitLab token expires on ${facts.tokenExpiresAt}: rotate it with PUT …/connection/token`,
      };
    }
  }
  return { status: 'active', reason: null };
}
