import type { IssueState } from '@testkase/sync-rules';

/**
 * One issue as GitLab showed it at `updatedAt`, from the REST API or a webhook, with every field
 * the requirement needs. Payloads that lack one of them never become a snapshot: the issue is
 * fetched over REST instead.
 */
export interface IssueSnapshot {
  readonly iid: number;
  /** GitLab's global issue id, when the payload gave it. */
  readonly issueId: number | null;
  readonly title: string;
  /** Markdown; GitLab's `null` (no description) is ''. */
  readonly description: string;
  readonly state: IssueState;
  /** Label titles as GitLab sent them (order and duplicates are normalised by the mapping). */
  readonly labels: readonly string[];
  readonly confidential: boolean;
  /** The issue URL GitLab gave, or null; the mapping checks it belongs to the project. */
  readonly webUrl: string | null;
  readonly createdAt: Date | null;
  readonly updatedAt: Date;
  /**
   * Whether `updatedAt` carries milliseconds. Older webhooks (`… UTC`) and the issue hook's ISO
   * form are second-precise, so two edits within one second look equally new.
   */
  readonly updatedAtExact: boolean;
  readonly source: 'rest' | 'webhook';
  /**
   * The global id of the issue this one was moved to (GitLab's `moved_to_id`); present only when
   * GitLab says it was moved. A moved issue is closed and points at its copy in another project
   * (docs/GITLAB.md, "Moved, deleted and retyped issues").
   */
  readonly movedToId?: number;
}

/** A GitLab timestamp string carries a fraction of a second. */
export const hasSubSecondPrecision = (text: string): boolean => /\d{2}:\d{2}:\d{2}[.,]\d+/.test(text);
