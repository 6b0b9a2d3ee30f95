import type { SimIssue, WorkItemType } from '../store/models';
import { lowerBound, type ProjectIssues } from '../store/project-issues';
import type { SimStore } from '../store/sim-store';

export const ISSUE_ORDER_BY = [
  'created_at',
  'updated_at',
  'priority',
  'due_date',
  'relative_position',
  'label_priority',
  'milestone_due',
  'popularity',
  'weight',
  'title',
  'id',
] as const;
export type IssueOrderBy = (typeof ISSUE_ORDER_BY)[number];
/** Orders keyset pagination supports on project issues (GitLab 18.3+). */
export const KEYSET_ORDER_BY: readonly IssueOrderBy[] = [
  'created_at',
  'updated_at',
  'title',
  'id',
  'weight',
  'due_date',
  'relative_position',
];
export type SortDirection = 'asc' | 'desc';

export type LabelFilter =
  { kind: 'none' } | { kind: 'any' } | { kind: 'all'; ids: number[] } | { kind: 'impossible' };

export interface IssueFilter {
  state?: 'opened' | 'closed';
  labels?: LabelFilter;
  notLabelIds?: number[];
  createdAfter?: number;
  createdBefore?: number;
  updatedAfter?: number;
  updatedBefore?: number;
  /** Lower-cased text searched in title and/or description. */
  search?: { text: string; inTitle: boolean; inDescription: boolean };
  iids?: Set<number>;
  types: ReadonlySet<WorkItemType>;
  confidential?: boolean;
  authorId?: number;
  assignee?: 'none' | 'any' | number;
  /** Planner+ and admins see every confidential issue; others only their own or assigned ones. */
  seesAllConfidential: boolean;
  viewerId: number | null;
}

export interface OffsetResult {
  items: SimIssue[];
  /** null when more than `countLimit` matched. */
  total: number | null;
  hasNext: boolean;
}

export interface KeysetResult {
  items: SimIssue[];
  nextCursor: string | null;
}

interface Cursor {
  key: number | string | null;
  id: number;
}

export class InvalidCursorError extends Error {}

const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof value.id !== 'number') throw new Error('no id');
    return value;
  } catch {
    throw new InvalidCursorError('invalid cursor');
  }
}

type SortKey = (issue: SimIssue) => number | string | null;

/** A stable text form of a filter (Sets as sorted arrays), to key cached totals. */
function signature(filter: IssueFilter): string {
  return JSON.stringify(filter, (_key, value: unknown) =>
    value instanceof Set ? [...(value as Set<unknown>)].sort() : value,
  );
}

/** Order of two (key, id) pairs in the requested direction; nulls last either way (`NULLS LAST`). */
function compareKeys(
  left: number | string | null,
  leftId: number,
  right: number | string | null,
  rightId: number,
  direction: 1 | -1,
): number {
  if (left === right) return (leftId - rightId) * direction;
  if (left === null) return 1;
  if (right === null) return -1;
  return (left < right ? -1 : 1) * direction;
}

/**
 * Filters and pages the issues of one project. The two common orders (created_at, updated_at)
 * walk pre-sorted indexes and narrow date filters by binary search; other orders sort the
 * matching issues.
 */
export class IssueQuery {
  constructor(private readonly store: SimStore) {}

  private sortKey(orderBy: IssueOrderBy): SortKey {
    switch (orderBy) {
      case 'created_at':
        return (issue) => issue.createdAt;
      case 'updated_at':
        return (issue) => issue.updatedAt;
      case 'title':
        return (issue) => issue.title.toLowerCase();
      case 'id':
        return (issue) => issue.id;
      case 'due_date':
        return (issue) => issue.dueDate;
      case 'relative_position':
        return (issue) => issue.relativePosition;
      case 'weight':
        return (issue) => issue.weight;
      case 'popularity':
        return (issue) => issue.upvotes;
      case 'priority':
      case 'label_priority':
        return (issue) => this.labelPriority(issue);
      case 'milestone_due':
        return () => null;
    }
  }

  private labelPriority(issue: SimIssue): number | null {
    let best: number | null = null;
    for (const id of issue.labelIds) {
      const priority = this.store.labels.get(id)?.priority ?? null;
      if (priority !== null && (best === null || priority < best)) best = priority;
    }
    return best;
  }

  compile(filter: IssueFilter): ((issue: SimIssue) => boolean) | null {
    const checks: Array<(issue: SimIssue) => boolean> = [];
    const { types } = filter;
    checks.push((issue) => types.has(issue.type));
    if (!filter.seesAllConfidential) {
      const viewer = filter.viewerId;
      checks.push(
        (issue) =>
          !issue.confidential ||
          (viewer !== null && (issue.authorId === viewer || issue.assigneeIds.includes(viewer))),
      );
    }
    if (filter.state) {
      const state = filter.state;
      checks.push((issue) => issue.state === state);
    }
    const labels = filter.labels;
    if (labels) {
      if (labels.kind === 'impossible') return null;
      if (labels.kind === 'none') checks.push((issue) => issue.labelIds.length === 0);
      else if (labels.kind === 'any') checks.push((issue) => issue.labelIds.length > 0);
      else {
        const ids = labels.ids;
        checks.push((issue) => ids.every((id) => issue.labelIds.includes(id)));
      }
    }
    if (filter.notLabelIds && filter.notLabelIds.length > 0) {
      const ids = filter.notLabelIds;
      checks.push((issue) => !ids.some((id) => issue.labelIds.includes(id)));
    }
    const { createdAfter, createdBefore, updatedAfter, updatedBefore } = filter;
    if (createdAfter !== undefined) checks.push((issue) => issue.createdAt >= createdAfter);
    if (createdBefore !== undefined) checks.push((issue) => issue.createdAt <= createdBefore);
    if (updatedAfter !== undefined) checks.push((issue) => issue.updatedAt >= updatedAfter);
    if (updatedBefore !== undefined) checks.push((issue) => issue.updatedAt <= updatedBefore);
    if (filter.search) {
      const { text, inTitle, inDescription } = filter.search;
      checks.push(
        (issue) =>
          (inTitle && issue.title.toLowerCase().includes(text)) ||
          (inDescription && (issue.description ?? '').toLowerCase().includes(text)),
      );
    }
    if (filter.iids) {
      const iids = filter.iids;
      checks.push((issue) => iids.has(issue.iid));
    }
    if (filter.confidential !== undefined) {
      const confidential = filter.confidential;
      checks.push((issue) => issue.confidential === confidential);
    }
    if (filter.authorId !== undefined) {
      const authorId = filter.authorId;
      checks.push((issue) => issue.authorId === authorId);
    }
    if (filter.assignee !== undefined) {
      const assignee = filter.assignee;
      if (assignee === 'none') checks.push((issue) => issue.assigneeIds.length === 0);
      else if (assignee === 'any') checks.push((issue) => issue.assigneeIds.length > 0);
      else checks.push((issue) => issue.assigneeIds.includes(assignee));
    }
    if (checks.length === 1) return checks[0];
    return (issue) => {
      for (const check of checks) if (!check(issue)) return false;
      return true;
    };
  }

  /**
   * The issues in the requested order, as an array plus the index range to walk. Date filters on
   * the order's own column narrow the range by binary search.
   */
  private ordered(
    index: ProjectIssues,
    orderBy: IssueOrderBy,
    sort: SortDirection,
    filter: IssueFilter,
    match: (issue: SimIssue) => boolean,
  ) {
    if (orderBy === 'created_at' || orderBy === 'updated_at') {
      const items = orderBy === 'created_at' ? index.byCreatedAt : index.byUpdatedAt;
      const key: (issue: SimIssue) => number =
        orderBy === 'created_at' ? (issue) => issue.createdAt : (issue) => issue.updatedAt;
      const after = orderBy === 'created_at' ? filter.createdAfter : filter.updatedAfter;
      const before = orderBy === 'created_at' ? filter.createdBefore : filter.updatedBefore;
      const low = after === undefined ? 0 : lowerBound(items, (issue) => key(issue) < after);
      const high = before === undefined ? items.length : lowerBound(items, (issue) => key(issue) <= before);
      return { items, low, high, key: key as SortKey, presorted: true };
    }
    const key = this.sortKey(orderBy);
    const matched = index.byCreatedAt.filter(match);
    const direction = sort === 'asc' ? 1 : -1;
    matched.sort((a, b) => compareKeys(key(a), a.id, key(b), b.id, direction));
    // Already in the requested direction: walk it forwards.
    return { items: matched, low: 0, high: matched.length, key, presorted: false };
  }

  offset(
    projectId: number,
    filter: IssueFilter,
    orderBy: IssueOrderBy,
    sort: SortDirection,
    offset: number,
    limit: number,
    countLimit: number,
  ): OffsetResult {
    const index = this.store.issuesOf(projectId);
    const match = this.compile(filter);
    if (!match) return { items: [], total: 0, hasNext: false };
    const { items, low, high, presorted } = this.ordered(index, orderBy, sort, filter, match);
    const forwards = !presorted || sort === 'asc';
    const trivial = !presorted || (this.isTrivial(filter, index) && low === 0 && high === items.length);
    if (trivial) {
      // Every element in range matches: page by index arithmetic.
      const total = high - low;
      const page: SimIssue[] = [];
      for (let n = offset; n < Math.min(total, offset + limit); n += 1)
        page.push(items[forwards ? low + n : high - 1 - n]);
      return { items: page, total: total > countLimit ? null : total, hasNext: offset + limit < total };
    }
    const step = (n: number): SimIssue => items[forwards ? low + n : high - 1 - n];
    const span = high - low;
    const page: SimIssue[] = [];
    // Walking pages repeats the same filter: its total is cached until the project changes.
    const key = signature(filter);
    const cached = index.countCache.get(key);
    if (cached && cached.mutations === index.mutations) {
      let matched = 0;
      let hasNext = false;
      for (let n = 0; n < span; n += 1) {
        const issue = step(n);
        if (!match(issue)) continue;
        if (page.length === limit) {
          hasNext = true;
          break;
        }
        if (matched >= offset) page.push(issue);
        matched += 1;
      }
      return { items: page, total: cached.total, hasNext };
    }
    let matched = 0;
    let complete = true;
    for (let n = 0; n < span; n += 1) {
      const issue = step(n);
      if (!match(issue)) continue;
      if (matched >= offset && page.length < limit) page.push(issue);
      matched += 1;
      if (page.length === limit && matched > offset + limit && matched > countLimit) {
        complete = false;
        break;
      }
    }
    const total = matched > countLimit ? null : matched;
    if (complete || total === null) {
      if (index.countCache.size >= 64) index.countCache.clear();
      index.countCache.set(key, { mutations: index.mutations, total });
    }
    return { items: page, total, hasNext: matched > offset + limit };
  }

  /** How many issues match, by state (`issues_statistics`; the filter's own `state` is ignored). */
  count(projectId: number, filter: IssueFilter): { opened: number; closed: number } {
    const match = this.compile({ ...filter, state: undefined });
    const counts = { opened: 0, closed: 0 };
    if (!match) return counts;
    for (const issue of this.store.issuesOf(projectId).byCreatedAt) {
      if (match(issue)) counts[issue.state] += 1;
    }
    return counts;
  }

  /** True when the filter can only exclude what the index already excludes. */
  private isTrivial(filter: IssueFilter, index: ProjectIssues): boolean {
    const onlyRestTypes = filter.types.size === 4 && index.nonRestItems === 0;
    return (
      onlyRestTypes &&
      (filter.seesAllConfidential || index.confidentialCount === 0) &&
      filter.state === undefined &&
      filter.labels === undefined &&
      (filter.notLabelIds === undefined || filter.notLabelIds.length === 0) &&
      filter.search === undefined &&
      filter.iids === undefined &&
      filter.confidential === undefined &&
      filter.authorId === undefined &&
      filter.assignee === undefined &&
      filter.createdAfter === undefined &&
      filter.createdBefore === undefined &&
      filter.updatedAfter === undefined &&
      filter.updatedBefore === undefined
    );
  }

  keyset(
    projectId: number,
    filter: IssueFilter,
    orderBy: IssueOrderBy,
    sort: SortDirection,
    cursorText: string | undefined,
    limit: number,
  ): KeysetResult {
    const index = this.store.issuesOf(projectId);
    const match = this.compile(filter);
    if (!match) return { items: [], nextCursor: null };
    const cursor = cursorText ? decodeCursor(cursorText) : undefined;
    const { items, low, high, key, presorted } = this.ordered(index, orderBy, sort, filter, match);
    const forwards = !presorted || sort === 'asc';
    // Position just past the cursor, counted in walking steps.
    let start = 0;
    if (cursor) {
      if (!presorted) {
        const direction = sort === 'asc' ? 1 : -1;
        start = lowerBound(
          items,
          (issue) => compareKeys(key(issue), issue.id, cursor.key, cursor.id, direction) <= 0,
        );
      } else if (forwards) {
        const after = lowerBound(
          items,
          (issue) => compareKeys(key(issue), issue.id, cursor.key, cursor.id, 1) <= 0,
        );
        start = Math.max(after, low) - low;
      } else {
        const before = lowerBound(
          items,
          (issue) => compareKeys(key(issue), issue.id, cursor.key, cursor.id, 1) < 0,
        );
        start = high - Math.min(before, high);
      }
    }
    const page: SimIssue[] = [];
    let more = false;
    for (let step = start; step < high - low; step += 1) {
      const issue = items[forwards ? low + step : high - 1 - step];
      if (!match(issue)) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(issue);
    }
    const last = page[page.length - 1];
    return { items: page, nextCursor: more && last ? encodeCursor({ key: key(last), id: last.id }) : null };
  }
}
