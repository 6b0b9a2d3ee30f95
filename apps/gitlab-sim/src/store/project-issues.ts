import type { SimIssue } from './models';

const byCreated = (a: SimIssue, b: SimIssue): number => a.createdAt - b.createdAt || a.id - b.id;
const byUpdated = (a: SimIssue, b: SimIssue): number => a.updatedAt - b.updatedAt || a.id - b.id;

/** Index of the first element for which `before(element)` is false (elements are sorted). */
export function lowerBound<T>(items: readonly T[], before: (item: T) => boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (before(items[mid])) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The issues (and other work items) of one project, indexed the ways the REST API reads them:
 * by iid, in creation order and in update order. Both orders are kept sorted so that a page of
 * a list costs a binary search plus the page, not a sort of the whole project.
 */
export class ProjectIssues {
  readonly byIid = new Map<number, SimIssue>();
  /** Sorted by (createdAt, id). */
  readonly byCreatedAt: SimIssue[] = [];
  private updatedOrder: SimIssue[] = [];
  private updatedOrderDirty = false;
  /** Items whose type the REST issues API does not serve (objectives, epics, …). */
  nonRestItems = 0;
  confidentialCount = 0;
  /** Bumped on every change to any issue of the project (keys the list-count cache). */
  mutations = 0;
  /** Totals of recent list filters, valid while `mutations` is unchanged. */
  readonly countCache = new Map<string, { mutations: number; total: number | null }>();

  /** An issue changed in a way a list filter could see (labels, state, confidentiality, …). */
  changed(): void {
    this.mutations += 1;
  }

  get size(): number {
    return this.byCreatedAt.length;
  }

  add(issue: SimIssue): void {
    this.mutations += 1;
    this.byIid.set(issue.iid, issue);
    const last = this.byCreatedAt[this.byCreatedAt.length - 1];
    if (!last || byCreated(last, issue) <= 0) this.byCreatedAt.push(issue);
    else
      this.byCreatedAt.splice(
        lowerBound(this.byCreatedAt, (item) => byCreated(item, issue) < 0),
        0,
        issue,
      );
    if (!this.updatedOrderDirty) {
      const lastUpdated = this.updatedOrder[this.updatedOrder.length - 1];
      if (!lastUpdated || byUpdated(lastUpdated, issue) <= 0) this.updatedOrder.push(issue);
      else this.updatedOrderDirty = true;
    }
  }

  /** Appends many issues already sorted by creation time (bulk seeding). */
  addSorted(issues: SimIssue[]): void {
    this.mutations += 1;
    for (const issue of issues) {
      this.byIid.set(issue.iid, issue);
      this.byCreatedAt.push(issue);
    }
    this.byCreatedAt.sort(byCreated);
    this.updatedOrderDirty = true;
  }

  remove(issue: SimIssue): void {
    this.mutations += 1;
    this.byIid.delete(issue.iid);
    const index = this.byCreatedAt.indexOf(issue);
    if (index >= 0) this.byCreatedAt.splice(index, 1);
    this.updatedOrderDirty = true;
  }

  /** Call after an issue's updatedAt changed from `previousUpdatedAt`. */
  touched(issue: SimIssue, previousUpdatedAt: number): void {
    this.mutations += 1;
    if (this.updatedOrderDirty || previousUpdatedAt === issue.updatedAt) return;
    const order = this.updatedOrder;
    const at = lowerBound(
      order,
      (item) =>
        item.updatedAt < previousUpdatedAt || (item.updatedAt === previousUpdatedAt && item.id < issue.id),
    );
    if (order[at] !== issue) {
      this.updatedOrderDirty = true;
      return;
    }
    order.splice(at, 1);
    const last = order[order.length - 1];
    if (!last || byUpdated(last, issue) <= 0) order.push(issue);
    else
      order.splice(
        lowerBound(order, (item) => byUpdated(item, issue) < 0),
        0,
        issue,
      );
  }

  /** Sorted by (updatedAt, id). */
  get byUpdatedAt(): readonly SimIssue[] {
    if (this.updatedOrderDirty) {
      this.updatedOrder = this.byCreatedAt.slice().sort(byUpdated);
      this.updatedOrderDirty = false;
    }
    return this.updatedOrder;
  }
}
