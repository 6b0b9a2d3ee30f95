import { ACCESS_LEVELS, type SimIssue, type SimNote, type SimProject } from '../store/models';
import type { SimStore } from '../store/sim-store';
import { discussionIdFor } from '../webhooks/payload-builder';
import type { EventContext } from '../webhooks/webhook.service';
import { GitlabError } from './gitlab-error';
import { ALL_RIGHTS, CLONEABLE_TYPES, type IssueService } from './issue.service';
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
    const copy = this.issues.create(
      context,
      target,
      this.copiedAttributes(issue, target),
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

  /**
   * `POST /projects/:id/issues/:issue_iid/move` (Issues::MoveService on Issuable::Clone::BaseService;
   * docs/GITLAB.md, "Moved, deleted and retyped issues"): a new issue in the target with the
   * original's author, times, attributes, labels the target has by title, and every note; the
   * original is closed (its `close` webhook, built after the commit, already carries `moved_to_id`),
   * points at the new one, and the two get `moved to` / `moved from` system notes. The new issue's
   * `open` webhook fires in the target. A closed original fires nothing (it only gets `moved_to_id`).
   * @throws GitlabError 400 with GitLab's MoveError message
   */
  move(context: EventContext, project: SimProject, issue: SimIssue, target: SimProject): SimIssue {
    if (!CLONEABLE_TYPES.includes(issue.type)) {
      const typeName = issue.type.toLowerCase().replace(/ /g, '_');
      throw new GitlabError(400, { message: `Cannot move issues of '${typeName}' type.` });
    }
    const source = viewerFor(this.store, project, context.actor);
    const mayAdmin = source.admin || source.level >= ACCESS_LEVELS.planner;
    if (!mayAdmin || !this.mayCloneInto(target, context) || (issue.movedToId ?? null) !== null)
      throw new GitlabError(400, { message: 'Cannot move issue due to insufficient permissions!' });
    if (project.id === target.id)
      throw new GitlabError(400, { message: 'Cannot move issue to project it originates from!' });
    const moved = this.issues.create(
      context,
      target,
      {
        ...this.copiedAttributes(issue, target),
        discussionLocked: issue.discussionLocked ?? undefined,
        // `moved_issue: true` keeps the original's times (Issues::BaseService#filter_params).
        createdAt: issue.createdAt,
      },
      { setMetadata: true, createLabels: false, update: true },
      {
        quickActions: false,
        authorId: issue.authorId,
        relativePosition:
          this.rootGroupId(project) === this.rootGroupId(target) ? issue.relativePosition : undefined,
      },
    );
    this.copyNotes(issue, moved);
    const now = this.store.clock.now();
    this.issues.addSystemNote(
      moved,
      context.actor,
      SystemNoteText.moved('from', issueReference(issue, project, target)),
      now,
    );
    this.touch(moved, now);
    issue.movedToId = moved.id;
    issue.version += 1;
    if (issue.state === 'opened')
      this.issues.update(context, project, issue, { stateEvent: 'close' }, ALL_RIGHTS);
    this.issues.addSystemNote(
      issue,
      context.actor,
      SystemNoteText.moved('to', issueReference(moved, target, project)),
      now,
    );
    this.touch(issue, this.store.clock.now());
    return moved;
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

  /** What a clone or a move carries over into `target`: labels that exist there, users that still exist. */
  private copiedAttributes(issue: SimIssue, target: SimProject) {
    return {
      title: issue.title,
      description: issue.description,
      labels: issue.labelIds
        .flatMap((id) => this.store.labels.get(id)?.title ?? [])
        .filter((title) => this.store.findAvailableLabel(target, title) !== undefined),
      confidential: issue.confidential,
      assigneeIds: issue.assigneeIds.filter((id) => this.store.users.has(id)),
      dueDate: issue.dueDate,
      type: issue.type,
      weight: issue.weight,
    };
  }
}
