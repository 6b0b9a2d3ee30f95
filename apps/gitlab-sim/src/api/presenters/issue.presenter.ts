import { isoMs, nullableTime } from '../../domain/time-format';
import type { SimUrls } from '../../domain/urls';
import type { SimIssue, SimProject, WorkItemType } from '../../store/models';
import type { SimStore } from '../../store/sim-store';
import { presentUserBasic } from './user.presenter';

/** REST `issue_type` / `type` values per work item type. */
export const ISSUE_TYPE_NAME: Record<WorkItemType, string> = {
  Issue: 'issue',
  Incident: 'incident',
  'Test Case': 'test_case',
  Task: 'task',
  Requirement: 'requirement',
  Objective: 'objective',
  'Key Result': 'key_result',
  Epic: 'epic',
};

export function taskCounts(description: string | null): { count: number; completed: number } {
  if (!description) return { count: 0, completed: 0 };
  let count = 0;
  let completed = 0;
  for (const match of description.matchAll(/^\s*(?:[-*+]|\d+[.)])\s+\[([ xX~])\]/gm)) {
    count += 1;
    if (match[1] !== ' ') completed += 1;
  }
  return { count, completed };
}

interface CachedIssue {
  version: number;
  entity: Record<string, unknown>;
  /** UTF-8 JSON of the list form (built on first list): pages are written from bytes, never re-encoded. */
  json: Buffer | null;
}

/**
 * `Entities::Issue`. The list form (no `subscribed`, with `has_tasks`/`task_status`) is cached
 * per issue version as a JSON string, so a page of 100 issues costs a join, not 100 builds.
 */
export class IssuePresenter {
  private readonly cache = new WeakMap<SimIssue, CachedIssue>();

  constructor(
    private readonly store: SimStore,
    private readonly urls: SimUrls,
  ) {}

  labelTitles(issue: SimIssue): string[] {
    const titles: string[] = [];
    for (const id of issue.labelIds) {
      const label = this.store.labels.get(id);
      if (label) titles.push(label.title);
    }
    return titles.sort();
  }

  private build(issue: SimIssue, project: SimProject): Record<string, unknown> {
    const { store, urls } = this;
    const author = store.users.get(issue.authorId);
    const assignees = issue.assigneeIds.flatMap((id) => {
      const user = store.users.get(id);
      return user ? [presentUserBasic(user, urls)] : [];
    });
    const closedBy = issue.closedById === null ? undefined : store.users.get(issue.closedById);
    const apiBase = urls.api(`/projects/${project.id}/issues/${issue.iid}`);
    const tasks = taskCounts(issue.description);
    const typeName = ISSUE_TYPE_NAME[issue.type];
    return {
      id: issue.id,
      iid: issue.iid,
      project_id: issue.projectId,
      title: issue.title,
      description: issue.description,
      state: issue.state,
      created_at: isoMs(issue.createdAt),
      updated_at: isoMs(issue.updatedAt),
      closed_at: nullableTime(issue.closedAt, isoMs),
      closed_by: closedBy ? presentUserBasic(closedBy, urls) : null,
      labels: this.labelTitles(issue),
      milestone: null,
      assignees,
      author: author ? presentUserBasic(author, urls) : null,
      type: typeName.toUpperCase(),
      assignee: assignees[0] ?? null,
      user_notes_count: issue.userNotesCount,
      merge_requests_count: 0,
      upvotes: issue.upvotes,
      downvotes: 0,
      due_date: issue.dueDate,
      imported: false,
      imported_from: 'none',
      confidential: issue.confidential,
      discussion_locked: issue.discussionLocked,
      issue_type: typeName,
      // `API::Entities::Issue` exposes it; the documented examples predate it (docs/GITLAB.md,
      // "Moved, deleted and retyped issues").
      moved_to_id: issue.movedToId ?? null,
      web_url: urls.issue(project, issue),
      time_stats: {
        time_estimate: 0,
        total_time_spent: 0,
        human_time_estimate: null,
        human_total_time_spent: null,
      },
      task_completion_status: { count: tasks.count, completed_count: tasks.completed },
      has_tasks: tasks.count > 0,
      task_status: `${tasks.completed} of ${tasks.count} checklist items completed`,
      _links: {
        self: apiBase,
        notes: `${apiBase}/notes`,
        award_emoji: `${apiBase}/award_emoji`,
        project: urls.api(`/projects/${project.id}`),
        closed_as_duplicate_of: null,
      },
      references: {
        short: `#${issue.iid}`,
        relative: `#${issue.iid}`,
        full: `${project.pathWithNamespace}#${issue.iid}`,
      },
      severity: 'UNKNOWN',
    };
  }

  private cached(issue: SimIssue, project: SimProject): CachedIssue {
    let entry = this.cache.get(issue);
    if (!entry || entry.version !== issue.version) {
      const entity = this.build(issue, project);
      entry = { version: issue.version, entity, json: null };
      this.cache.set(issue, entry);
    }
    return entry;
  }

  /** One element of `GET /projects/:id/issues`, as UTF-8 JSON. */
  listItemJson(issue: SimIssue, project: SimProject): Buffer {
    const entry = this.cached(issue, project);
    entry.json ??= Buffer.from(JSON.stringify(entry.entity));
    return entry.json;
  }

  /** The UTF-8 JSON of each list item, for a zero-copy write of a page. */
  listParts(issues: readonly SimIssue[], project: SimProject): Buffer[] {
    return issues.map((issue) => this.listItemJson(issue, project));
  }

  /** `GET/POST/PUT …/issues/:iid`: the full entity, with `subscribed` and without the list-only fields. */
  single(issue: SimIssue, project: SimProject, viewerId: number | null): Record<string, unknown> {
    const { has_tasks: _hasTasks, task_status: _taskStatus, ...entity } = this.cached(issue, project).entity;
    return {
      ...entity,
      subscribed: viewerId !== null && (issue.authorId === viewerId || issue.assigneeIds.includes(viewerId)),
    };
  }
}
