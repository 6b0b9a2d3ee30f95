import { Injectable } from '@nestjs/common';

import { GitlabAccess, isAuthFailure } from '@testkase/consumer-kit';
import {
  restIssueOfOtherType,
  snapshotFromRestIssue,
  type GitlabClient,
  type GitlabIssue,
  type IssueSnapshot,
} from '@testkase/gitlab';
import { isAppError } from '@testkase/util';

import type { ConnectionRecord } from '../connections/connection.record';
import { movedToFromNote, type MovedToLink } from '../requirements/moved-issue';

/** What GitLab has for an iid now: an issue, a work item of another type, or nothing. */
export type IssueFate =
  | { readonly kind: 'issue'; readonly snapshot: IssueSnapshot }
  | { readonly kind: 'retyped'; readonly type: string; readonly updatedAt: Date | null }
  | { readonly kind: 'gone' };

/** System notes are newest first; a move's `moved to` note is among the last few. */
const NOTES_TO_READ = 20;

/**
 * Reads one issue from GitLab when an event cannot be applied as it is (docs/GITLAB.md, "Moved,
 * deleted and retyped issues"): whether it is still an issue, became another work item type, or is
 * gone, and where a moved issue went.
 */
@Injectable()
export class IssueFateReader {
  constructor(private readonly access: GitlabAccess) {}

  /** The fate of one REST issue record (a listing's, or a single read). */
  static fateOf(issue: GitlabIssue): IssueFate | null {
    const snapshot = snapshotFromRestIssue(issue);
    if (snapshot) return { kind: 'issue', snapshot };
    const other = restIssueOfOtherType(issue);
    if (!other) return null;
    const updatedAt = typeof issue.updated_at === 'string' ? new Date(issue.updated_at) : null;
    return {
      kind: 'retyped',
      type: other.issueType,
      updatedAt: updatedAt && !Number.isNaN(updatedAt.getTime()) ? updatedAt : null,
    };
  }

  /**
   * The issue as GitLab has it now. `gone` also when the connection is no longer active or GitLab
   * refused the token (reported: the reconciliation repairs the issue once the token works).
   */
  async read(connection: ConnectionRecord, iid: number, signal?: AbortSignal): Promise<IssueFate> {
    try {
      const gitlab = await this.access.clientFor(connection.connection_id);
      return (
        IssueFateReader.fateOf(
          await gitlab.issues.get(Number(connection.gitlab_project_id), iid, { signal }),
        ) ?? {
          kind: 'gone',
        }
      );
    } catch (error) {
      return this.unlessGone(connection, error, { kind: 'gone' });
    }
  }

  /**
   * Where a moved issue went: the `moved to <reference>` system note GitLab adds to the original.
   * Null when the note is not there (or not readable); the requirement then keeps GitLab's
   * `moved_to_id` alone.
   */
  async movedTo(
    connection: ConnectionRecord,
    iid: number,
    gitlab?: GitlabClient,
    /** A consumer's InboundMessage.signal: the read stops when the message is given up. */
    signal?: AbortSignal,
  ): Promise<MovedToLink | null> {
    try {
      const client = gitlab ?? (await this.access.clientFor(connection.connection_id));
      for await (const page of client.notes.pages(
        Number(connection.gitlab_project_id),
        iid,
        { sort: 'desc', order_by: 'created_at', per_page: NOTES_TO_READ },
        { signal },
      )) {
        for (const note of page.items) {
          if (!note.system || typeof note.body !== 'string') continue;
          const link = movedToFromNote(note.body, connection.project_path, connection.instance_url);
          if (link) return link;
        }
        break;
      }
      return null;
    } catch (error) {
      return this.unlessGone(connection, error, null);
    }
  }

  private async unlessGone<T>(connection: ConnectionRecord, error: unknown, gone: T): Promise<T> {
    if (isAppError(error) && (error.code === 'GITLAB_NOT_FOUND' || error.code === 'NOT_CONNECTED'))
      return gone;
    if (isAuthFailure(error)) {
      await this.access.reportAuthFailure(connection.connection_id, error);
      return gone;
    }
    throw error;
  }
}
