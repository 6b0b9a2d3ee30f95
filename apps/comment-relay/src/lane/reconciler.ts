import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { GitlabAccess, type JobLease } from '@testkase/consumer-kit';
import { snapshotFromRestNote, type GitlabClient, type GitlabNote } from '@testkase/gitlab';
import { LOGGER, type Logger } from '@testkase/platform';
import { isAppError } from '@testkase/util';

import { CommentRepository } from '../comments/comment.repository';
import type { CommentRelayConfig } from '../config/comment-relay.config';
import { COMMENT_RELAY_CONFIG } from '../config/config.token';
import type { RelayConnectionRecord } from '../connections/connection.record';
import { SweepStateRepository } from '../connections/sweep-state.repository';
import { LinkRepository } from '../links/link.repository';
import { RelayMetrics } from '../metrics/relay.metrics';
import { NoteRelay } from '../notes/note-relay';
import { SCHEMA } from '../persistence/schema';
import { TargetRepository } from '../targets/target.repository';

const s = `"${SCHEMA}"`;
const BATCH = 100;
/** Notes of one issue a sweep asks for one by one before it calls them gone; more wait for the next sweep. */
const MAX_CONFIRMATIONS = 20;

/** An issue a sweep reads the notes of, and why comment-relay cares about it. */
interface TrackedIssue {
  iid: number;
  /** The pushed defect on it, if any. */
  project_id: string | null;
  defect_id: string | null;
  /** Our linked-test-cases note on it, if any (bigint as text). */
  link_note_id: string | null;
}

/**
 * Reconciliation of notes, because GitLab's note webhooks can be lost and a deleted note sends
 * none. A sweep reads the notes of the tracked issues (pushed defects, and requirements with our
 * comment): `incremental` those GitLab changed since the watermark plus the NOTE_CHECK_BATCH
 * checked longest ago (a deletion touches no issue), `full` all of them. Notes on defects are
 * relayed as a webhook would have (new, edited, and relayed ones now gone → comment_deleted); a
 * linked-test-cases comment someone deleted is written again. Failed writes worth a retry are made
 * due again.
 */
@Injectable()
export class Reconciler {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: GitlabAccess,
    private readonly state: SweepStateRepository,
    private readonly targets: TargetRepository,
    private readonly links: LinkRepository,
    private readonly comments: CommentRepository,
    private readonly relay: NoteRelay,
    private readonly metrics: RelayMetrics,
    @Inject(COMMENT_RELAY_CONFIG) private readonly config: CommentRelayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(
    lease: JobLease,
    connection: RelayConnectionRecord,
    kind: 'incremental' | 'full',
    signal: AbortSignal,
  ): Promise<void> {
    const connectionId = connection.connection_id;
    const gitlabProjectId = Number(connection.gitlab_project_id);
    const gitlab = await this.access.clientFor(connectionId);
    const startedAt = await lease.now();
    const totals = { issues: 0, relayed: 0, deleted: 0, recreated: 0 };
    let watermark: Date | null = null;

    // The first sweep of a connection, and a full one, read every tracked issue.
    const all = kind === 'full' || !connection.watermark;
    let iids: number[] | null = null;
    if (!all && connection.watermark) {
      const changed = new Set<number>();
      const query = {
        updated_after: new Date(
          connection.watermark.getTime() - this.config.RECONCILE_SAFETY_MARGIN,
        ).toISOString(),
        order_by: 'updated_at' as const,
        sort: 'asc' as const,
        per_page: BATCH,
      };
      for await (const page of gitlab.issues.pages(gitlabProjectId, query)) {
        if (signal.aborted) return;
        for (const issue of page.items) {
          changed.add(issue.iid);
          const updatedAt = new Date(issue.updated_at);
          if (!watermark || updatedAt > watermark) watermark = updatedAt;
        }
      }
      iids = [...changed];
    }
    const tracked = await this.tracked(connectionId, iids, all ? null : this.config.NOTE_CHECK_BATCH);
    for (const issue of tracked) {
      if (signal.aborted) return;
      const result = await this.sweepIssue(gitlab, gitlabProjectId, connectionId, issue);
      totals.issues += 1;
      totals.relayed += result.relayed;
      totals.deleted += result.deleted;
      totals.recreated += result.recreated;
    }
    const retried = await this.dataSource.transaction((tx) => this.comments.retryFailed(tx, connectionId));
    await lease.transaction((tx) =>
      this.state.finish(tx, connectionId, kind, startedAt, watermark ?? startedAt),
    );
    this.metrics.reconciliations.inc({ kind, result: 'completed' });
    for (const what of ['relayed', 'deleted', 'recreated'] as const) {
      if (totals[what] > 0) this.metrics.repairs.inc({ what }, totals[what]);
    }
    this.logger[totals.relayed + totals.deleted + totals.recreated + retried > 0 ? 'info' : 'debug'](
      { connectionId, kind, ...totals, retried },
      'reconciliation of notes finished',
    );
  }

  /**
   * The issues to read: those of `changed` that are tracked, and (unless `extra` is null: all of
   * them) the `extra` tracked issues checked longest ago.
   */
  private async tracked(
    connectionId: string,
    changed: number[] | null,
    extra: number | null,
  ): Promise<TrackedIssue[]> {
    return this.dataSource.query(
      `WITH tracked AS (
         SELECT d.iid, d.project_id, d.defect_id, NULL::text AS link_note_id, d.notes_checked_at AS checked
           FROM ${s}.defects d WHERE d.connection_id = $1::uuid
         UNION ALL
         SELECT r.iid, NULL, NULL, l.note_id::text, l.notes_checked_at
           FROM ${s}.link_comments l JOIN ${s}.requirements r
             ON r.requirement_id = l.requirement_id AND r.project_id = l.project_id
          WHERE l.connection_id = $1::uuid AND l.note_id IS NOT NULL AND r.connection_id = $1::uuid),
       per_issue AS (
         SELECT iid, max(project_id) AS project_id, max(defect_id) AS defect_id, max(link_note_id) AS link_note_id,
                min(coalesce(checked, '-infinity')) AS checked
           FROM tracked GROUP BY iid)
       SELECT iid, project_id, defect_id, link_note_id FROM per_issue
        WHERE $2::integer[] IS NULL OR iid = ANY($2::integer[])
       UNION
       SELECT iid, project_id, defect_id, link_note_id FROM (
         SELECT * FROM per_issue WHERE $3::integer IS NOT NULL ORDER BY checked LIMIT $3) oldest`,
      [connectionId, changed, extra],
    );
  }

  /**
   * Of notes a listing did not show, those GitLab answers 404 for. Notes are offset-paginated only
   * (docs/GITLAB.md, "Pagination"): a note deleted while a listing is read shifts the pages after
   * it, so the note at a page boundary is in neither page; and a note written after the listing
   * began may be missing from it. Absence from a listing is therefore only a hint, confirmed with a
   * read of the note itself; a read that fails otherwise decides nothing (the next sweep asks again).
   */
  private async confirmGone(
    gitlab: GitlabClient,
    gitlabProjectId: number,
    iid: number,
    noteIds: readonly number[],
  ): Promise<number[]> {
    const gone: number[] = [];
    for (const noteId of noteIds.slice(0, MAX_CONFIRMATIONS)) {
      try {
        await gitlab.notes.get(gitlabProjectId, iid, noteId);
      } catch (error) {
        if (isAppError(error) && error.code === 'GITLAB_NOT_FOUND') gone.push(noteId);
        else this.logger.warn({ err: error, iid, noteId }, 'could not confirm that a note is gone');
      }
    }
    return gone;
  }

  private async sweepIssue(
    gitlab: GitlabClient,
    gitlabProjectId: number,
    connectionId: string,
    issue: TrackedIssue,
  ): Promise<{ relayed: number; deleted: number; recreated: number }> {
    const result = { relayed: 0, deleted: 0, recreated: 0 };
    const notes: GitlabNote[] = [];
    try {
      for await (const page of gitlab.notes.pages(gitlabProjectId, issue.iid, {
        sort: 'asc',
        order_by: 'created_at',
        per_page: BATCH,
      })) {
        notes.push(...page.items);
      }
    } catch (error) {
      this.logger.warn({ err: error, connectionId, iid: issue.iid }, 'could not read the notes of an issue');
      return result;
    }
    const present = new Set(notes.map((note) => note.id));
    if (issue.defect_id && issue.project_id) {
      const defect = await this.targets.findDefect(
        this.dataSource.manager,
        issue.project_id,
        issue.defect_id,
      );
      if (defect) {
        for (const note of notes) {
          const snapshot = snapshotFromRestNote(note, issue.iid);
          if (!snapshot || snapshot.system) continue;
          const outcome = await this.relay.apply(connectionId, defect, snapshot);
          if (outcome === 'relayed' || outcome === 'edited') result.relayed += 1;
        }
        const absent = await this.relay.absentFrom(connectionId, issue.iid, present);
        const gone = await this.confirmGone(gitlab, gitlabProjectId, issue.iid, absent);
        result.deleted = await this.relay.deleted(connectionId, gone);
      }
    }
    const linkNote = issue.link_note_id === null ? null : Number(issue.link_note_id);
    const linkGone =
      linkNote !== null &&
      !present.has(linkNote) &&
      (await this.confirmGone(gitlab, gitlabProjectId, issue.iid, [linkNote])).length > 0;
    await this.dataSource.transaction(async (tx) => {
      if (linkGone && linkNote !== null)
        result.recreated = await this.links.noteGone(tx, connectionId, [linkNote]);
      await this.targets.markNotesChecked(tx, connectionId, [issue.iid]);
      if (linkNote !== null) await this.links.markNotesChecked(tx, connectionId, [linkNote]);
    });
    return result;
  }
}
