import type { WriteState } from '../links/link.records';

/**
 * Where a comment stands on GitLab, as TestKase sees it:
 * - `synced`: GitLab shows what TestKase asked for;
 * - `pending`: a write is queued (debounce, rate limit, a retry, or the requirement or defect is not known yet);
 * - `failed`: it cannot be written until someone acts (`error` says why).
 */
export interface SyncView {
  readonly noteId: number | null;
  readonly syncStatus: 'synced' | 'pending' | 'failed';
  /** True while the requirement or defect is not known yet (it waits for its first event, TARGET_WAIT). */
  readonly waiting: boolean;
  readonly error: { code: string; message: string; at: string; retryAt: string | null } | null;
}

/** The view of a write state; a row waiting longer than `targetWaitMs` for its target has failed with `missingCode`. */
export function syncStateOf(
  row: (WriteState & { revision: number; written_revision: number; note_id: string | null }) | null,
  targetWaitMs: number,
  missingCode: string,
): SyncView {
  if (!row) return { noteId: null, syncStatus: 'synced', waiting: false, error: null };
  const noteId = row.note_id === null ? null : Number(row.note_id);
  if (row.waiting_since) {
    const expired = Date.now() - row.waiting_since.getTime() > targetWaitMs;
    return {
      noteId,
      syncStatus: expired ? 'failed' : 'pending',
      waiting: !expired,
      error: expired
        ? {
            code: missingCode,
            message: 'comment-relay never heard of this target from its service: check the id',
            at: new Date(row.waiting_since.getTime() + targetWaitMs).toISOString(),
            retryAt: null,
          }
        : null,
    };
  }
  const error = row.error_code
    ? {
        code: row.error_code,
        message: row.error_message ?? '',
        at: (row.error_at ?? new Date()).toISOString(),
        retryAt: row.next_attempt_at?.toISOString() ?? null,
      }
    : null;
  if (row.written_revision >= row.revision)
    return { noteId, syncStatus: 'synced', waiting: false, error: null };
  return { noteId, syncStatus: error && !row.next_attempt_at ? 'failed' : 'pending', waiting: false, error };
}
