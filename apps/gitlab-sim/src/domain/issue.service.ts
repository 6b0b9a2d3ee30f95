import type { SimIssue, SimNote, SimProject, SimUser, WorkItemType } from '../store/models';
import type { SimStore } from '../store/sim-store';
import { discussionIdFor, type IssueChanges } from '../webhooks/payload-builder';
import type { EventContext, WebhookService } from '../webhooks/webhook.service';
import { GitlabError } from './gitlab-error';
import { humanSize } from './human-size';
import type { LabelService } from './label.service';
import { parseQuickActions, type QuickAction } from './quick-actions';
import { SystemNoteText } from './system-notes';

/** `Issuable::TITLE_LENGTH_MAX` (characters, after stripping). */
export const MAX_TITLE_LENGTH = 255;
/** `Issuable::DESCRIPTION_LENGTH_MAX` = 1.megabyte, checked in bytes (BytesizeValidator). */
export const MAX_DESCRIPTION_BYTES = 1_048_576;

/**
 * Issues get a position on the board when created (RelativePositioning), spaced so that others fit
 * between them; other work item types have none (real/webhook-work-item-task-open-2026.json).
 */
export const relativePositionFor = (iid: number): number => 513 + (iid - 1) * 1_026;

/** What the actor may do beyond editing text (decided by the caller from the actor's role). */
export interface IssueWriteRights {
  /** Labels, assignees, due date, locking: ignored without it (GitLab drops those params). */
  setMetadata: boolean;
  /** May create labels that do not exist yet (`admin_label`; the project switch still applies). */
  createLabels: boolean;
  /** May close, reopen and edit the issue (author or Planner+). */
  update: boolean;
}

export const ALL_RIGHTS: IssueWriteRights = { setMetadata: true, createLabels: true, update: true };

export interface IssueCreateInput {
  title: string;
  description?: string | null;
  labels?: string[];
  confidential?: boolean;
  assigneeIds?: number[];
  dueDate?: string | null;
  type?: WorkItemType;
  createdAt?: number;
  weight?: number | null;
  discussionLocked?: boolean;
}

export interface IssueUpdateInput {
  title?: string;
  description?: string | null;
  stateEvent?: 'close' | 'reopen';
  labels?: string[];
  addLabels?: string[];
  removeLabels?: string[];
  confidential?: boolean;
  assigneeIds?: number[];
  dueDate?: string | null;
  discussionLocked?: boolean;
  type?: WorkItemType;
  weight?: number | null;
}

/** Internal creation switches (clones copy an issue as it is, without re-running its text). */
export interface IssueCreateOptions {
  /** Run the quick actions of the description (default true). */
  quickActions?: boolean;
  /** Keep this board position instead of a new one. */
  relativePosition?: number | null;
  /** The author, when not the actor (a moved issue keeps its author: Issues::MoveService). */
  authorId?: number;
}

/** A `/clone` that found its target: Issues::UpdateService runs it after the other updates. */
export interface CloneRequest {
  target: SimProject;
  withNotes: boolean;
}

/** What a body of quick actions did (the 202 answer's `commands_changes` and `summary`). */
export interface QuickActionResult {
  changes: Record<string, unknown>;
  summary: string[];
  /** The clone still to run (by the caller, once the other commands are applied). */
  clone: CloneRequest | null;
}

/** Work item types that support `/clone` and `/move` (IssueAvailableFeatures `move_and_clone`). */
export const CLONEABLE_TYPES: readonly WorkItemType[] = ['Issue', 'Incident'];

interface Snapshot {
  title: string;
  description: string | null;
  state: SimIssue['state'];
  confidential: boolean;
  labelIds: number[];
  assigneeIds: number[];
  dueDate: string | null;
  discussionLocked: boolean | null;
  updatedAt: number;
  updatedById: number | null;
  closedAt: number | null;
  lastEditedAt: number | null;
  lastEditedById: number | null;
  weight: number | null;
  type: WorkItemType;
}

const snapshot = (issue: SimIssue): Snapshot => ({
  title: issue.title,
  description: issue.description,
  state: issue.state,
  confidential: issue.confidential,
  labelIds: [...issue.labelIds],
  assigneeIds: [...issue.assigneeIds],
  dueDate: issue.dueDate,
  discussionLocked: issue.discussionLocked,
  updatedAt: issue.updatedAt,
  updatedById: issue.updatedById,
  closedAt: issue.closedAt,
  lastEditedAt: issue.lastEditedAt,
  lastEditedById: issue.lastEditedById,
  weight: issue.weight,
  type: issue.type,
});

const sameSet = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((id) => b.includes(id));

/**
 * Issue (and work item) writes with GitLab's side effects: iids per project, implicit labels,
 * quick actions in descriptions, system notes, `updated_at`/`closed_at`/`closed_by`, and the
 * webhooks (`open`, `update`, `close`, `reopen` with `changes`). REST routes and the control API
 * both call it, so both fire the same events.
 */
export class IssueService {
  constructor(
    private readonly store: SimStore,
    private readonly labels: LabelService,
    private readonly webhooks: WebhookService,
  ) {}

  private now(): number {
    return this.store.clock.now();
  }

  /** After a change: new version (drops cached JSON) and the update-order index. */
  private touched(issue: SimIssue, previousUpdatedAt: number): void {
    issue.version += 1;
    this.store.issuesOf(issue.projectId).touched(issue, previousUpdatedAt);
  }

  addSystemNote(issue: SimIssue, actor: SimUser, body: string, at: number): SimNote {
    const id = this.store.nextId('note');
    const note: SimNote = {
      id,
      issueId: issue.id,
      projectId: issue.projectId,
      body,
      authorId: actor.id,
      system: true,
      internal: false,
      createdAt: at,
      updatedAt: at,
      updatedById: null,
      discussionId: discussionIdFor(id),
    };
    this.store.addNote(note);
    return note;
  }

  /**
   * The Issuable validations: `title` present and at most 255 characters once stripped; a new or
   * changed `description` at most 1 MiB in UTF-8 bytes, unless the description it replaces was
   * already longer (`validate_description_length?`). Both errors are reported together.
   */
  private validateText(
    title: string | undefined,
    description: string | null | undefined,
    previousDescription: string | null = null,
  ): void {
    const errors: Record<string, string[]> = {};
    if (title !== undefined) {
      const stripped = title.trim();
      if (stripped.length === 0) errors['title'] = ["can't be blank"];
      else if ([...stripped].length > MAX_TITLE_LENGTH)
        errors['title'] = [`is too long (maximum is ${MAX_TITLE_LENGTH} characters)`];
    }
    const size = description ? Buffer.byteLength(description, 'utf8') : 0;
    const previousSize = previousDescription ? Buffer.byteLength(previousDescription, 'utf8') : 0;
    if (
      size > MAX_DESCRIPTION_BYTES &&
      description !== previousDescription &&
      previousSize <= MAX_DESCRIPTION_BYTES
    ) {
      errors['description'] = [
        `is too long (${humanSize(size)}). The maximum size is ${humanSize(MAX_DESCRIPTION_BYTES)}.`,
      ];
    }
    if (Object.keys(errors).length > 0) throw GitlabError.validation(errors);
  }

  private usersByName(usernames: readonly string[]): number[] {
    return usernames.flatMap((name) => {
      const user = this.store.userByUsername(name);
      return user ? [user.id] : [];
    });
  }

  create(
    context: EventContext,
    project: SimProject,
    input: IssueCreateInput,
    rights: IssueWriteRights,
    options: IssueCreateOptions = {},
  ): SimIssue {
    this.validateText(input.title, input.description);
    let description = input.description ?? null;
    const addTitles = [...(rights.setMetadata ? (input.labels ?? []) : [])];
    const removeTitles: string[] = [];
    let assigneeIds = rights.setMetadata ? [...(input.assigneeIds ?? [])] : [];
    let confidential = input.confidential ?? false;
    if (description && options.quickActions !== false) {
      const parsed = parseQuickActions(description);
      for (const action of parsed.actions) {
        if (!rights.setMetadata && action.kind !== 'confidential') continue;
        switch (action.kind) {
          case 'label':
            addTitles.push(...action.labels.filter((title) => this.store.findAvailableLabel(project, title)));
            break;
          case 'unlabel':
            removeTitles.push(...action.labels);
            break;
          case 'relabel':
            addTitles.splice(
              0,
              addTitles.length,
              ...action.labels.filter((title) => this.store.findAvailableLabel(project, title)),
            );
            break;
          case 'assign':
            assigneeIds = [...new Set([...assigneeIds, ...this.usersByName(action.usernames)])];
            break;
          case 'confidential':
            confidential = true;
            break;
          default:
            break;
        }
      }
      if (parsed.actions.length > 0) description = parsed.text || null;
    }
    const labelIds = this.labels
      .resolveTitles(project, addTitles, rights.createLabels)
      .filter((id) => !removeTitles.includes(this.store.labels.get(id)?.title ?? ''));
    const now = input.createdAt ?? this.now();
    const iid = project.nextIid++;
    const type = input.type ?? 'Issue';
    const issue: SimIssue = {
      id: this.store.nextId('issue'),
      iid,
      projectId: project.id,
      title: input.title.trim(),
      description,
      state: 'opened',
      type,
      confidential,
      discussionLocked: rights.setMetadata ? (input.discussionLocked ?? null) : null,
      authorId: options.authorId ?? context.actor.id,
      assigneeIds,
      labelIds,
      dueDate: rights.setMetadata ? (input.dueDate ?? null) : null,
      weight: input.weight ?? null,
      relativePosition:
        options.relativePosition !== undefined
          ? options.relativePosition
          : type === 'Issue' || type === 'Incident' || type === 'Test Case'
            ? relativePositionFor(iid)
            : null,
      upvotes: 0,
      createdAt: now,
      updatedAt: now,
      updatedById: null,
      closedAt: null,
      closedById: null,
      lastEditedAt: null,
      lastEditedById: null,
      userNotesCount: 0,
      version: 0,
      deleted: false,
    };
    this.store.issues.set(issue.id, issue);
    const index = this.store.issuesOf(project.id);
    index.add(issue);
    if (
      issue.type !== 'Issue' &&
      issue.type !== 'Incident' &&
      issue.type !== 'Test Case' &&
      issue.type !== 'Task'
    )
      index.nonRestItems += 1;
    if (issue.confidential) index.confidentialCount += 1;
    project.lastActivityAt = now;
    const changes: IssueChanges = {
      author_id: { previous: null, current: issue.authorId },
      created_at: { previous: null, current: issue.createdAt },
      id: { previous: null, current: issue.id },
      iid: { previous: null, current: issue.iid },
      project_id: { previous: null, current: issue.projectId },
      title: { previous: null, current: issue.title },
      updated_at: { previous: null, current: issue.updatedAt },
    };
    if (issue.description !== null) changes['description'] = { previous: null, current: issue.description };
    if (issue.confidential) changes['confidential'] = { previous: false, current: true };
    this.webhooks.issueEvent(context, project, issue, 'open', changes);
    return issue;
  }

  /**
   * `PUT …/issues/:iid`: a state change fires `close`/`reopen` first (Issues::CloseService), the
   * other attributes then fire one `update` (even with empty `changes`, as GitLab does).
   */
  update(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    input: IssueUpdateInput,
    rights: IssueWriteRights,
  ): SimIssue {
    this.validateText(input.title, input.description, issue.description);
    const update: IssueUpdateInput = { ...input };
    if (typeof update.description === 'string') {
      const parsed = parseQuickActions(update.description);
      if (parsed.actions.length > 0) {
        update.description = parsed.text || null;
        this.mergeActions(project, update, parsed.actions, rights);
      }
    }
    if (update.stateEvent && rights.update) this.changeState(context, project, issue, update.stateEvent);
    const { stateEvent: _stateEvent, ...attributes } = update;
    if (Object.values(attributes).some((value) => value !== undefined))
      this.changeAttributes(context, project, issue, attributes, rights);
    return issue;
  }

  private mergeActions(
    project: SimProject,
    update: IssueUpdateInput,
    actions: QuickAction[],
    rights: IssueWriteRights,
  ): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'close':
          update.stateEvent = 'close';
          break;
        case 'reopen':
          update.stateEvent = 'reopen';
          break;
        case 'label':
          update.addLabels = [
            ...(update.addLabels ?? []),
            ...action.labels.filter((title) => this.store.findAvailableLabel(project, title)),
          ];
          break;
        case 'unlabel':
          if (action.labels.length === 0) update.labels = [];
          else update.removeLabels = [...(update.removeLabels ?? []), ...action.labels];
          break;
        case 'relabel':
          update.labels = action.labels.filter((title) => this.store.findAvailableLabel(project, title));
          break;
        case 'confidential':
          update.confidential = true;
          break;
        case 'title':
          update.title = action.title;
          break;
        case 'assign':
          update.assigneeIds = [
            ...new Set([...(update.assigneeIds ?? []), ...this.usersByName(action.usernames)]),
          ];
          break;
        case 'unassign':
          update.assigneeIds = [];
          break;
        case 'lock':
          update.discussionLocked = true;
          break;
        case 'unlock':
          update.discussionLocked = false;
          break;
        case 'clone':
          // Runs from notes only (NoteService); in a description its line is just removed.
          break;
      }
    }
    if (!rights.setMetadata) {
      delete update.addLabels;
      delete update.removeLabels;
      delete update.labels;
      delete update.assigneeIds;
      delete update.discussionLocked;
    }
  }

  private changeState(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    event: 'close' | 'reopen',
  ): void {
    if ((event === 'close' && issue.state === 'closed') || (event === 'reopen' && issue.state === 'opened'))
      return;
    const before = snapshot(issue);
    const now = this.now();
    if (event === 'close') {
      issue.state = 'closed';
      issue.closedAt = now;
      issue.closedById = context.actor.id;
    } else {
      issue.state = 'opened';
      issue.closedAt = null;
      issue.closedById = null;
    }
    issue.updatedAt = now;
    this.touched(issue, before.updatedAt);
    project.lastActivityAt = now;
    this.addSystemNote(
      issue,
      context.actor,
      event === 'close' ? SystemNoteText.closed() : SystemNoteText.reopened(),
      now,
    );
    const changes: IssueChanges = {
      closed_at: { previous: before.closedAt, current: issue.closedAt },
      state_id: { previous: before.state === 'opened' ? 1 : 2, current: issue.state === 'opened' ? 1 : 2 },
      updated_at: { previous: before.updatedAt, current: issue.updatedAt },
    };
    this.webhooks.issueEvent(context, project, issue, event, changes);
  }

  private changeAttributes(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    input: Omit<IssueUpdateInput, 'stateEvent'>,
    rights: IssueWriteRights,
  ): void {
    const before = snapshot(issue);
    const actor = context.actor;
    if (input.title !== undefined) issue.title = input.title.trim();
    if (input.description !== undefined)
      issue.description = input.description === '' ? null : input.description;
    if (input.confidential !== undefined && (rights.setMetadata || issue.authorId === actor.id))
      issue.confidential = input.confidential;
    if (input.type !== undefined) issue.type = input.type;
    if (input.weight !== undefined) issue.weight = input.weight;
    if (rights.setMetadata) {
      if (input.labels !== undefined)
        issue.labelIds = this.labels.resolveTitles(project, input.labels, rights.createLabels);
      if (input.addLabels !== undefined) {
        for (const id of this.labels.resolveTitles(project, input.addLabels, rights.createLabels)) {
          if (!issue.labelIds.includes(id)) issue.labelIds.push(id);
        }
      }
      if (input.removeLabels !== undefined) {
        const remove = new Set(input.removeLabels.map((title) => title.trim()));
        issue.labelIds = issue.labelIds.filter((id) => !remove.has(this.store.labels.get(id)?.title ?? ''));
      }
      if (input.assigneeIds !== undefined) issue.assigneeIds = [...new Set(input.assigneeIds)];
      if (input.dueDate !== undefined) issue.dueDate = input.dueDate;
      if (input.discussionLocked !== undefined) issue.discussionLocked = input.discussionLocked;
    }

    const now = this.now();
    const notes: string[] = [];
    if (issue.title !== before.title) notes.push(SystemNoteText.title(before.title, issue.title));
    if (issue.description !== before.description) notes.push(SystemNoteText.description());
    if (issue.confidential !== before.confidential)
      notes.push(SystemNoteText.confidential(issue.confidential));
    const labelsChanged = !sameSet(before.labelIds, issue.labelIds);
    if (labelsChanged) {
      const added = issue.labelIds.filter((id) => !before.labelIds.includes(id));
      const removed = before.labelIds.filter((id) => !issue.labelIds.includes(id));
      notes.push(SystemNoteText.labels(added, removed));
    }
    const assigneesChanged = !sameSet(before.assigneeIds, issue.assigneeIds);
    if (assigneesChanged) {
      const users = (ids: number[]): SimUser[] => ids.flatMap((id) => this.store.users.get(id) ?? []);
      notes.push(
        SystemNoteText.assignees(
          users(issue.assigneeIds.filter((id) => !before.assigneeIds.includes(id))),
          users(before.assigneeIds.filter((id) => !issue.assigneeIds.includes(id))),
        ),
      );
    }
    if (issue.dueDate !== before.dueDate) notes.push(SystemNoteText.dueDate(issue.dueDate));
    if (issue.discussionLocked !== before.discussionLocked)
      notes.push(SystemNoteText.discussionLocked(issue.discussionLocked === true));

    const changed = notes.length > 0 || issue.weight !== before.weight || issue.type !== before.type;
    const changes: IssueChanges = {};
    if (changed) {
      issue.updatedAt = now;
      issue.updatedById = actor.id;
      if (issue.title !== before.title || issue.description !== before.description) {
        issue.lastEditedAt = now;
        issue.lastEditedById = actor.id;
      }
      if (issue.confidential !== before.confidential)
        this.store.issuesOf(project.id).confidentialCount += issue.confidential ? 1 : -1;
      this.touched(issue, before.updatedAt);
      project.lastActivityAt = now;
      for (const body of notes) this.addSystemNote(issue, actor, body, now);

      const scalar = (key: string, previous: unknown, current: unknown): void => {
        if (previous !== current) changes[key] = { previous, current };
      };
      scalar('title', before.title, issue.title);
      scalar('description', before.description, issue.description);
      scalar('confidential', before.confidential, issue.confidential);
      scalar('due_date', before.dueDate, issue.dueDate);
      scalar('discussion_locked', before.discussionLocked, issue.discussionLocked);
      scalar('weight', before.weight, issue.weight);
      scalar('last_edited_at', before.lastEditedAt, issue.lastEditedAt);
      scalar('last_edited_by_id', before.lastEditedById, issue.lastEditedById);
      scalar('updated_at', before.updatedAt, issue.updatedAt);
      scalar('updated_by_id', before.updatedById, issue.updatedById);
      if (labelsChanged) changes['labels'] = { previous: before.labelIds, current: [...issue.labelIds] };
      if (assigneesChanged)
        changes['assignees'] = { previous: before.assigneeIds, current: [...issue.assigneeIds] };
    }
    this.webhooks.issueEvent(context, project, issue, 'update', changes);
  }

  /** Quick actions of a note, executed on its issue with the actor's rights. */
  applyQuickActions(
    context: EventContext,
    project: SimProject,
    issue: SimIssue,
    actions: QuickAction[],
    rights: IssueWriteRights,
  ): QuickActionResult {
    const update: IssueUpdateInput = {};
    const summary: string[] = [];
    const changes: Record<string, unknown> = {};
    let clone: CloneRequest | null = null;
    const refs = (titles: string[]): string =>
      titles.map((title) => (/\s/.test(title) ? `~"${title}"` : `~${title}`)).join(' ');
    for (const action of actions) {
      switch (action.kind) {
        case 'close':
          if (rights.update && issue.state === 'opened') {
            summary.push('Closed this issue.');
            changes['state_event'] = 'close';
          }
          break;
        case 'reopen':
          if (rights.update && issue.state === 'closed') {
            summary.push('Reopened this issue.');
            changes['state_event'] = 'reopen';
          }
          break;
        case 'label': {
          const titles = action.labels.filter((title) => this.store.findAvailableLabel(project, title));
          if (rights.setMetadata && titles.length > 0) {
            summary.push(`Added ${refs(titles)} ${titles.length === 1 ? 'label' : 'labels'}.`);
            changes['add_label_ids'] = this.labels.findTitles(project, titles);
          }
          break;
        }
        case 'unlabel':
          if (rights.setMetadata) {
            if (action.labels.length === 0) {
              summary.push('Removed all labels.');
              changes['label_ids'] = [];
            } else {
              summary.push(
                `Removed ${refs(action.labels)} ${action.labels.length === 1 ? 'label' : 'labels'}.`,
              );
              changes['remove_label_ids'] = this.labels.findTitles(project, action.labels);
            }
          }
          break;
        case 'relabel': {
          const titles = action.labels.filter((title) => this.store.findAvailableLabel(project, title));
          if (rights.setMetadata) {
            summary.push(
              `Replaced all labels with ${refs(titles)} ${titles.length === 1 ? 'label' : 'labels'}.`,
            );
            changes['label_ids'] = this.labels.findTitles(project, titles);
          }
          break;
        }
        case 'confidential':
          if (rights.update && !issue.confidential) {
            summary.push('Made this issue confidential.');
            changes['confidential'] = true;
          }
          break;
        case 'title':
          if (rights.update) {
            summary.push(`Changed the title to "${action.title}".`);
            changes['title'] = action.title;
          }
          break;
        case 'assign': {
          const ids = this.usersByName(action.usernames);
          if (rights.setMetadata && ids.length > 0) {
            summary.push(`Assigned ${action.usernames.map((name) => `@${name}`).join(' and ')}.`);
            changes['assignee_ids'] = [...new Set([...issue.assigneeIds, ...ids])];
          }
          break;
        }
        case 'unassign':
          if (rights.setMetadata && issue.assigneeIds.length > 0) {
            summary.push('Removed assignees.');
            changes['assignee_ids'] = [];
          }
          break;
        case 'lock':
          if (rights.setMetadata) {
            summary.push('Locked the discussion.');
            changes['discussion_locked'] = true;
          }
          break;
        case 'unlock':
          if (rights.setMetadata) {
            summary.push('Unlocked the discussion.');
            changes['discussion_locked'] = false;
          }
          break;
        case 'clone': {
          // `clone_issue` = admin_issue (Planner+) on a type that supports move and clone.
          if (!rights.setMetadata || !CLONEABLE_TYPES.includes(issue.type)) break;
          if (action.wrongParameters) {
            summary.push('Failed to clone this issue: wrong parameters.');
            break;
          }
          // `Project.find_by_full_path`: a path, never an id; whether the actor may write there is
          // checked only when the clone runs (a refused clone still reports success).
          const target =
            action.path === null ? project : this.store.projectsByPath.get(action.path.toLowerCase());
          if (!target) {
            summary.push("Failed to clone this issue because target project doesn't exist.");
            break;
          }
          summary.push(`Cloned this issue to ${action.path ?? project.pathWithNamespace}.`);
          changes['clone_with_notes'] = action.withNotes;
          clone = { target, withNotes: action.withNotes };
          break;
        }
      }
    }
    this.mergeActions(project, update, actions, rights);
    if (!rights.update) {
      delete update.stateEvent;
      delete update.title;
      delete update.confidential;
    }
    if (Object.values(update).some((value) => value !== undefined))
      this.update(context, project, issue, update, { ...rights, createLabels: false });
    return { changes, summary, clone };
  }

  delete(issue: SimIssue): void {
    const index = this.store.issuesOf(issue.projectId);
    index.remove(issue);
    if (issue.confidential) index.confidentialCount -= 1;
    if (!['Issue', 'Incident', 'Test Case', 'Task'].includes(issue.type)) index.nonRestItems -= 1;
    issue.deleted = true;
    this.store.issues.delete(issue.id);
    for (const note of [...(this.store.notesByIssue.get(issue.id) ?? [])]) this.store.removeNote(note);
    this.store.notesByIssue.delete(issue.id);
  }
}
