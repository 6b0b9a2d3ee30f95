import { ACCESS_LEVELS, type SimIssue, type SimNote, type SimProject } from '../store/models';
import type { SimStore } from '../store/sim-store';
import { discussionIdFor } from '../webhooks/payload-builder';
import type { EventContext } from '../webhooks/webhook.service';
import type { IssueService } from './issue.service';
import { viewerFor } from './permissions';
import { issueReference, SystemNoteText } from './system-notes';

/**
 * `/clone` (WorkItems::DataSync::CloneService, Issues::CloneService before it): a new, open issue
 * in the target project authored by the actor, with the original's title, description,
 * confidentiality, assignees, due date, weight and type, and the labels the target has by title
 * (never created). The original is left as it is. Notes are copied only `--with_notes`, as they
 * are (authors, times, system notes), without webhooks. `cloned to`/`cloned from` system notes
 * link the two; the copy's Issue Hook `open` is the only webhook (docs/GITLAB.md, "Quick actions").
 */
export class IssueCloneService {
  constructor(
    private readonly store: SimStore,
    private readonly issues: IssueService,
  ) {}

  /**
   * `Issue#can_clone?`: `admin_issue` (Planner and up) in the target too, which issues turned
   * off or an archived project take away. Without it GitLab silently does nothing.
   */
  mayCloneInto(target: SimProject, context: EventContext): boolean {
    if (!target.issuesEnabled || target.archived) return false;
    const viewer = viewerFor(this.store, target, context.actor);
    return viewer.admin || viewer.level >= ACCESS_LEVELS.planner;
  }

  clone(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    target: SimProject,
    withNotes: boolean,
  ): SimIssue | null {
    if (!this.mayCloneInto(target, context)) return null;
    const labels = issue.labelIds
      .flatMap((id) => this.store.labels.get(id)?.title ?? [])
      .filter((title) => this.store.findAvailableLabel(target, title) !== undefined);
    const copy = this.issues.create(
      context,
      target,
      {
        title: issue.title,
        description: issue.description,
        labels,
        confidential: issue.confidential,
        assigneeIds: issue.assigneeIds.filter((id) => this.store.users.has(id)),
        dueDate: issue.dueDate,
        type: issue.type,
        weight: issue.weight,
      },
      { setMetadata: true, createLabels: false, update: true },
      {
        quickActions: false,
        // The board position travels within one top-level group only.
        relativePosition:
          this.rootGroupId(project) === this.rootGroupId(target) ? issue.relativePosition : undefined,
      },
    );
    if (withNotes) this.copyNotes(issue, copy);
    this.issues.addSystemNote(
      copy,
      context.actor,
      SystemNoteText.cloned('from', issueReference(issue, project, target)),
      copy.createdAt,
    );
    const now = this.store.clock.now();
    this.issues.addSystemNote(
      issue,
      context.actor,
      SystemNoteText.cloned('to', issueReference(copy, target, project)),
      now,
    );
    this.touch(issue, now);
    return copy;
  }

  /** The `cloned to` note touches the original like any note (`Note#touch_noteable`), without a webhook. */
  private touch(issue: SimIssue, at: number): void {
    const previous = issue.updatedAt;
    if (at > previous) issue.updatedAt = at;
    issue.version += 1;
    this.store.issuesOf(issue.projectId).touched(issue, previous);
  }

  /** Notes::CopyService: every note, system and internal ones too, in order, each discussion kept together. */
  private copyNotes(from: SimIssue, to: SimIssue): void {
    const discussions = new Map<string, string>();
    const notes = [...(this.store.notesByIssue.get(from.id) ?? [])].sort((a, b) => a.id - b.id);
    for (const note of notes) {
      const id = this.store.nextId('note');
      let discussionId = discussions.get(note.discussionId);
      if (discussionId === undefined) {
        discussionId = discussionIdFor(id);
        discussions.set(note.discussionId, discussionId);
      }
      const copied: SimNote = { ...note, id, issueId: to.id, projectId: to.projectId, discussionId };
      this.store.addNote(copied);
      if (!note.system) to.userNotesCount += 1;
    }
    to.version += 1;
  }

  private rootGroupId(project: SimProject): number | undefined {
    const chain = this.store.groupChain(project.namespaceId);
    return chain[chain.length - 1]?.id;
  }
}
