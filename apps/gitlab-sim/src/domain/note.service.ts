import type { SimIssue, SimNote, SimProject } from '../store/models';
import type { SimStore } from '../store/sim-store';
import { discussionIdFor } from '../webhooks/payload-builder';
import type { EventContext, WebhookService } from '../webhooks/webhook.service';
import { GitlabError } from './gitlab-error';
import type { IssueCloneService } from './issue-clone.service';
import type { IssueService, IssueWriteRights, QuickActionResult } from './issue.service';
import { parseQuickActions, type QuickAction } from './quick-actions';

/** Note body limit (Note model validation). */
export const MAX_NOTE_LENGTH = 1_000_000;
/** User comments per issue (instance limit `notes_per_issue`); system notes are still added after it. */
export const MAX_USER_NOTES_PER_ISSUE = 5_000;

export type NoteCreateResult =
  | { kind: 'note'; note: SimNote; commands: QuickActionResult | null }
  | { kind: 'commands'; commands: QuickActionResult };

/** `bad_request!("Note #{note.errors.messages}")`: the Ruby inspect of the errors hash. */
const noteError = (field: string, message: string): GitlabError =>
  GitlabError.badRequest(`Note {:${field}=>["${message}"]}`);

/**
 * Comments on issues: quick actions (a body made only of them answers 202), the note hook on
 * create and edit (never for system notes or deletions), and the issue's `updated_at` touched
 * like `Note#touch_noteable` does.
 */
export class NoteService {
  constructor(
    private readonly store: SimStore,
    private readonly issues: IssueService,
    private readonly webhooks: WebhookService,
    private readonly cloner: IssueCloneService,
  ) {}

  /**
   * The note's commands on its issue; a `/clone` runs last, once the other commands have been
   * applied (Issues::UpdateService#clone_issue updates the issue first), so the copy has them.
   */
  private runQuickActions(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    actions: QuickAction[],
    rights: IssueWriteRights,
  ): QuickActionResult {
    const result = this.issues.applyQuickActions(context, project, issue, actions, rights);
    if (result.clone) this.cloner.clone(context, project, issue, result.clone.target, result.clone.withNotes);
    return result;
  }

  private touchIssue(issue: SimIssue, at: number): void {
    const previous = issue.updatedAt;
    if (at > previous) issue.updatedAt = at;
    issue.version += 1;
    this.store.issuesOf(issue.projectId).touched(issue, previous);
  }

  create(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    input: { body: string; internal: boolean; createdAt?: number },
    rights: IssueWriteRights,
  ): NoteCreateResult {
    if (input.body.length > MAX_NOTE_LENGTH)
      throw noteError('note', `is too long (maximum is ${MAX_NOTE_LENGTH} characters)`);
    const parsed = parseQuickActions(input.body);
    if (parsed.actions.length > 0 && parsed.text.length === 0) {
      return {
        kind: 'commands',
        commands: this.runQuickActions(context, project, issue, parsed.actions, rights),
      };
    }
    if (issue.userNotesCount >= MAX_USER_NOTES_PER_ISSUE)
      throw noteError('base', 'Maximum number of comments exceeded');
    const now = input.createdAt ?? this.store.clock.now();
    const id = this.store.nextId('note');
    const note: SimNote = {
      id,
      issueId: issue.id,
      projectId: project.id,
      body: parsed.text,
      authorId: context.actor.id,
      system: false,
      internal: input.internal,
      createdAt: now,
      updatedAt: now,
      updatedById: null,
      discussionId: discussionIdFor(id),
    };
    this.store.addNote(note);
    issue.userNotesCount += 1;
    this.touchIssue(issue, now);
    project.lastActivityAt = now;
    this.webhooks.noteEvent(context, project, issue, note, 'create');
    const commands =
      parsed.actions.length > 0
        ? this.runQuickActions(context, project, issue, parsed.actions, rights)
        : null;
    return { kind: 'note', note, commands };
  }

  update(context: EventContext, project: SimProject, issue: SimIssue, note: SimNote, body: string): SimNote {
    if (body.length > MAX_NOTE_LENGTH)
      throw noteError('note', `is too long (maximum is ${MAX_NOTE_LENGTH} characters)`);
    const now = this.store.clock.now();
    if (body !== note.body) {
      note.body = body;
      note.updatedAt = now;
      note.updatedById = context.actor.id;
      this.touchIssue(issue, now);
    }
    this.webhooks.noteEvent(context, project, issue, note, 'update');
    return note;
  }

  delete(issue: SimIssue, note: SimNote): void {
    this.store.removeNote(note);
    if (!note.system) issue.userNotesCount = Math.max(0, issue.userNotesCount - 1);
    issue.version += 1;
  }
}
