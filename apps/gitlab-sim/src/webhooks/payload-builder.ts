import { createHash } from 'node:crypto';

import { isoMs, isoSeconds, nullableTime, utcText } from '../domain/time-format';
import type { SimUrls } from '../domain/urls';
import {
  VISIBILITY_LEVEL,
  type SimIssue,
  type SimLabel,
  type SimNote,
  type SimProject,
  type SimUser,
} from '../store/models';
import type { SimStore } from '../store/sim-store';

/** One attribute change: raw values (epoch ms for times, ids for labels and assignees). */
export interface AttributeChange {
  previous: unknown;
  current: unknown;
}
export type IssueChanges = Record<string, AttributeChange>;

/** Attributes whose values are moments (formatted per payload generation). */
const TIME_ATTRIBUTES = new Set(['created_at', 'updated_at', 'closed_at', 'last_edited_at']);

/**
 * The payload generations the simulator can send:
 * - `modern`: issues and notes as the documented examples show (GitLab 16–18),
 * - `work_item`: other work item types as gitlab.com sends them in 2026,
 * - `legacy`: the 2018 generation (no `event_type`, no `user.id`, `… UTC` times, `/issues/<iid>` URLs).
 */
export type PayloadGeneration = 'modern' | 'work_item' | 'legacy';

export type IssueAction = 'open' | 'update' | 'close' | 'reopen';
export type NoteAction = 'create' | 'update';

const WORK_ITEM_STATUS_OPEN = {
  id: 'gid://gitlab/WorkItems::Statuses::SystemDefined::Status/1',
  name: 'To do',
  category: 'to_do',
  description: null,
  color: '#737278',
};
const WORK_ITEM_STATUS_DONE = {
  id: 'gid://gitlab/WorkItems::Statuses::SystemDefined::Status/3',
  name: 'Done',
  category: 'done',
  description: null,
  color: '#108548',
};

export const discussionIdFor = (noteId: number): string =>
  createHash('sha1').update(`note-${noteId}`).digest('hex');

/** Builds webhook bodies from the current state (called at the moment of the event). */
export class PayloadBuilder {
  constructor(
    private readonly store: SimStore,
    private readonly urls: SimUrls,
  ) {}

  generationFor(project: SimProject, issue: SimIssue, legacyDefault: boolean): PayloadGeneration {
    if (project.legacyPayloads ?? legacyDefault) return 'legacy';
    return issue.type === 'Issue' ? 'modern' : 'work_item';
  }

  private time(epochMs: number, generation: PayloadGeneration): string {
    if (generation === 'work_item') return isoMs(epochMs);
    if (generation === 'legacy') return utcText(epochMs);
    return isoSeconds(epochMs);
  }

  /** `user` of a payload: the actor. Email shows only when public. */
  user(user: SimUser, generation: PayloadGeneration): Record<string, unknown> {
    const avatar = this.urls.avatar(user);
    if (generation === 'legacy') return { name: user.name, username: user.username, avatar_url: avatar };
    return {
      id: user.id,
      name: user.name,
      username: user.username,
      avatar_url: avatar,
      email: user.publicEmail ?? '[REDACTED]',
    };
  }

  project(project: SimProject): Record<string, unknown> {
    const namespace = this.store.groups.get(project.namespaceId);
    const web = this.urls.project(project);
    const ssh = this.urls.gitSsh(project);
    const http = this.urls.gitHttp(project);
    return {
      id: project.id,
      name: project.name,
      description: project.description,
      web_url: web,
      avatar_url: null,
      git_ssh_url: ssh,
      git_http_url: http,
      namespace: namespace?.name ?? '',
      visibility_level: VISIBILITY_LEVEL[project.visibility],
      path_with_namespace: project.pathWithNamespace,
      default_branch: project.defaultBranch,
      ci_config_path: null,
      homepage: web,
      url: ssh,
      ssh_url: ssh,
      http_url: http,
    };
  }

  repository(project: SimProject): Record<string, unknown> {
    return {
      name: project.name,
      url: this.urls.gitSsh(project),
      description: project.description,
      homepage: this.urls.project(project),
    };
  }

  label(label: SimLabel, format: (epochMs: number) => string): Record<string, unknown> {
    return {
      id: label.id,
      title: label.title,
      color: label.color,
      project_id: label.projectId,
      created_at: format(label.createdAt),
      updated_at: format(label.updatedAt),
      template: false,
      description: label.description,
      type: label.projectId !== null ? 'ProjectLabel' : 'GroupLabel',
      group_id: label.groupId,
    };
  }

  private labels(
    labelIds: readonly number[],
    format: (epochMs: number) => string,
  ): Record<string, unknown>[] {
    const labels: Record<string, unknown>[] = [];
    for (const id of labelIds) {
      const label = this.store.labels.get(id);
      if (label) labels.push(this.label(label, format));
    }
    return labels;
  }

  /** `Issue#hook_attrs` in the generation's shape (without `action`). */
  issueAttributes(
    issue: SimIssue,
    project: SimProject,
    generation: PayloadGeneration,
  ): Record<string, unknown> {
    const time = (epochMs: number | null): string | null =>
      nullableTime(epochMs, (value) => this.time(value, generation));
    if (generation === 'legacy') {
      return {
        author_id: issue.authorId,
        closed_at: time(issue.closedAt),
        confidential: issue.confidential,
        created_at: time(issue.createdAt),
        description: issue.description,
        due_date: issue.dueDate,
        id: issue.id,
        iid: issue.iid,
        last_edited_at: time(issue.lastEditedAt),
        last_edited_by_id: issue.lastEditedById,
        milestone_id: null,
        moved_to_id: issue.movedToId ?? null,
        project_id: issue.projectId,
        relative_position: issue.relativePosition,
        state: issue.state,
        time_estimate: 0,
        title: issue.title,
        updated_at: time(issue.updatedAt),
        updated_by_id: issue.updatedById,
        url: this.urls.legacyIssue(project, issue),
        total_time_spent: 0,
        human_total_time_spent: null,
        human_time_estimate: null,
        assignee_ids: issue.assigneeIds,
        assignee_id: issue.assigneeIds[0] ?? null,
      };
    }
    const attributes: Record<string, unknown> = {
      author_id: issue.authorId,
      closed_at: time(issue.closedAt),
      confidential: issue.confidential,
      created_at: time(issue.createdAt),
      description: issue.description,
      discussion_locked: issue.discussionLocked,
      due_date: issue.dueDate,
      id: issue.id,
      iid: issue.iid,
      last_edited_at: time(issue.lastEditedAt),
      last_edited_by_id: issue.lastEditedById,
      milestone_id: null,
      moved_to_id: issue.movedToId ?? null,
      duplicated_to_id: null,
      project_id: issue.projectId,
      relative_position: issue.relativePosition,
      state_id: issue.state === 'opened' ? 1 : 2,
      time_estimate: 0,
      title: issue.title,
      updated_at: time(issue.updatedAt),
      updated_by_id: issue.updatedById,
      weight: issue.weight,
      health_status: null,
      type: issue.type,
      url: generation === 'work_item' ? this.urls.workItem(project, issue) : this.urls.issue(project, issue),
      total_time_spent: 0,
      time_change: 0,
      human_total_time_spent: null,
      human_time_change: null,
      human_time_estimate: null,
      assignee_ids: issue.assigneeIds,
      assignee_id: issue.assigneeIds[0] ?? null,
      labels: this.labels(issue.labelIds, generation === 'work_item' ? isoMs : isoSeconds),
      state: issue.state,
      severity: 'unknown',
      customer_relations_contacts: [],
    };
    if (generation === 'work_item')
      attributes['status'] = issue.state === 'opened' ? WORK_ITEM_STATUS_OPEN : WORK_ITEM_STATUS_DONE;
    return attributes;
  }

  private formatChanges(
    changes: IssueChanges,
    generation: PayloadGeneration,
  ): Record<string, AttributeChange> {
    const changeTime = generation === 'work_item' ? isoMs : utcText;
    const labelTime = generation === 'work_item' ? isoMs : generation === 'legacy' ? utcText : isoSeconds;
    const formatted: Record<string, AttributeChange> = {};
    for (const [key, change] of Object.entries(changes)) {
      if (key === 'labels') {
        formatted[key] = {
          previous: this.labels(change.previous as number[], labelTime),
          current: this.labels(change.current as number[], labelTime),
        };
      } else if (key === 'assignees') {
        const users = (ids: unknown): Record<string, unknown>[] =>
          (ids as number[]).flatMap((id) => {
            const user = this.store.users.get(id);
            return user ? [this.user(user, generation)] : [];
          });
        formatted[key] = { previous: users(change.previous), current: users(change.current) };
      } else if (key === 'state_id' && generation === 'legacy') {
        const state = (value: unknown): string => (value === 2 ? 'closed' : 'opened');
        formatted['state'] = { previous: state(change.previous), current: state(change.current) };
      } else if (TIME_ATTRIBUTES.has(key)) {
        const format = (value: unknown): unknown => (typeof value === 'number' ? changeTime(value) : value);
        formatted[key] = { previous: format(change.previous), current: format(change.current) };
      } else {
        formatted[key] = change;
      }
    }
    return formatted;
  }

  /** `Gitlab::DataBuilder::Issuable#build` for issues and work items. */
  issueEvent(input: {
    project: SimProject;
    issue: SimIssue;
    actor: SimUser;
    action: IssueAction;
    changes: IssueChanges;
    generation: PayloadGeneration;
  }): Record<string, unknown> {
    const { project, issue, actor, action, changes, generation } = input;
    const objectKind = generation === 'work_item' ? 'work_item' : 'issue';
    const payload: Record<string, unknown> = { object_kind: objectKind };
    if (generation !== 'legacy')
      payload['event_type'] = issue.confidential ? `confidential_${objectKind}` : objectKind;
    const labelTime = generation === 'work_item' ? isoMs : generation === 'legacy' ? utcText : isoSeconds;
    let formattedChanges = this.formatChanges(changes, generation);
    if (generation === 'legacy' && action === 'open')
      formattedChanges = { total_time_spent: { previous: null, current: 0 } };
    Object.assign(payload, {
      user: this.user(actor, generation),
      project: this.project(project),
      object_attributes: { ...this.issueAttributes(issue, project, generation), action },
      labels: this.labels(issue.labelIds, labelTime),
      changes: formattedChanges,
      repository: this.repository(project),
    });
    if (issue.assigneeIds.length > 0) {
      const assignees = issue.assigneeIds.flatMap((id) => {
        const user = this.store.users.get(id);
        return user ? [this.user(user, generation)] : [];
      });
      payload['assignees'] = assignees;
      if (generation === 'modern') payload['assignee'] = assignees[0];
    }
    return payload;
  }

  /** `Gitlab::DataBuilder::Note` for a comment on an issue. */
  noteEvent(input: {
    project: SimProject;
    issue: SimIssue;
    note: SimNote;
    actor: SimUser;
    action: NoteAction;
    generation: PayloadGeneration;
  }): Record<string, unknown> {
    const { project, issue, note, actor, action, generation } = input;
    const confidential = issue.confidential || note.internal;
    const issueGeneration: PayloadGeneration = generation === 'legacy' ? 'legacy' : 'modern';
    const issueUrl =
      generation === 'legacy' ? this.urls.legacyIssue(project, issue) : this.urls.issue(project, issue);
    const objectAttributes: Record<string, unknown> = {
      attachment: null,
      author_id: note.authorId,
      change_position: null,
      commit_id: '',
      created_at: utcText(note.createdAt),
      discussion_id: discussionIdFor(note.id),
      id: note.id,
      line_code: null,
      note: note.body,
      noteable_id: issue.id,
      noteable_type: 'Issue',
      original_position: null,
      position: null,
      project_id: project.id,
      resolved_at: null,
      resolved_by_id: null,
      resolved_by_push: null,
      st_diff: null,
      system: note.system,
      type: null,
      updated_at: utcText(note.updatedAt),
      updated_by_id: note.updatedById,
      description: note.body,
      url: `${issueUrl}#note_${note.id}`,
    };
    if (generation !== 'legacy') {
      objectAttributes['internal'] = note.internal;
      objectAttributes['action'] = action;
    }
    const issueAttributes = this.issueAttributes(issue, project, issueGeneration);
    // Inside note payloads the issue's own times use the `… UTC` form (webhook-note-issue.json).
    for (const key of TIME_ATTRIBUTES) {
      const value =
        issue[
          key === 'created_at'
            ? 'createdAt'
            : key === 'updated_at'
              ? 'updatedAt'
              : key === 'closed_at'
                ? 'closedAt'
                : 'lastEditedAt'
        ];
      if (key in issueAttributes) issueAttributes[key] = nullableTime(value, utcText);
    }
    if (generation === 'legacy') issueAttributes['labels'] = this.labels(issue.labelIds, utcText);
    else {
      issueAttributes['labels'] = this.labels(issue.labelIds, isoMs);
      delete issueAttributes['customer_relations_contacts'];
    }
    const payload: Record<string, unknown> = { object_kind: 'note' };
    if (generation !== 'legacy') payload['event_type'] = confidential ? 'confidential_note' : 'note';
    Object.assign(payload, {
      user: this.user(actor, generation),
      project_id: project.id,
      project: this.project(project),
      object_attributes: objectAttributes,
      repository: this.repository(project),
      issue: issueAttributes,
    });
    return payload;
  }
}

/**
 * Custom webhook templates (`{{object_kind}}`, `{{object_attributes.title}}`): each placeholder
 * becomes the JSON value at that path; inside a string, the value is inserted JSON-escaped.
 */
export function renderCustomTemplate(template: string, payload: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_match, path: string) => {
    let value: unknown = payload;
    for (const part of path.split('.')) {
      value =
        value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined || value === null) return '';
    if (typeof value === 'string') return JSON.stringify(value).slice(1, -1);
    return JSON.stringify(value);
  });
}
