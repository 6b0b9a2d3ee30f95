import { gitlabFailureOf, retryDelayMs, TokenRefused } from '@testkase/consumer-kit';

/**
 * What a failed write does: a refused token stops the lane (TokenRefused); anything transient is
 * retried with backoff; a permanent refusal waits for someone to act (or the next sweep).
 */
export async function recordFailure(
  error: unknown,
  failures: number,
  maxIntervalMs: number,
  save: (failure: { code: string; message: string }, retryAt: Date | null) => Promise<void>,
): Promise<void> {
  const failure = gitlabFailureOf(error);
  if (failure.kind === 'auth') {
    await save(failure, null);
    throw new TokenRefused(failure, error);
  }
  const retryAt =
    failure.kind === 'transient'
      ? new Date(Date.now() + retryDelayMs(failures + 1, maxIntervalMs, failure.retryAfterMs))
      : null;
  await save(failure, retryAt);
}
