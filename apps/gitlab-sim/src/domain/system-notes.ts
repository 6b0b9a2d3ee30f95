import type { SimIssue, SimProject, SimUser } from '../store/models';

/** The texts of GitLab's system notes (SystemNotes::IssuablesService), with `~<id>` label references. */
export const SystemNoteText = {
  closed: (): string => 'closed',
  reopened: (): string => 'reopened',

  labels(added: readonly number[], removed: readonly number[]): string {
    const part = (verb: string, ids: readonly number[]): string =>
      `${verb} ${ids.map((id) => `~${id}`).join(' ')} ${ids.length === 1 ? 'label' : 'labels'}`;
    const parts: string[] = [];
    if (added.length > 0) parts.push(part('added', added));
    if (removed.length > 0) parts.push(part('removed', removed));
    return parts.join(' and ');
  },

  title: (previous: string, current: string): string =>
    `changed title from **${previous}** to **${current}**`,
  description: (): string => 'changed the description',
  confidential: (confidential: boolean): string =>
    confidential ? 'made the issue confidential' : 'made the issue visible to everyone',
  discussionLocked: (locked: boolean): string =>
    locked ? 'locked the discussion in this issue' : 'unlocked the discussion in this issue',

  assignees(added: readonly SimUser[], removed: readonly SimUser[]): string {
    const names = (users: readonly SimUser[]): string => users.map((user) => `@${user.username}`).join(', ');
    const parts: string[] = [];
    if (added.length > 0) parts.push(`assigned to ${names(added)}`);
    if (removed.length > 0) parts.push(`unassigned ${names(removed)}`);
    return parts.join(' and ');
  },

  dueDate: (dueDate: string | null): string =>
    dueDate ? `changed due date to ${dueDate}` : 'removed due date',

  /** `noteable_cloned`: `cloned to <ref>` on the original, `cloned from <ref>` on the copy. */
  cloned: (direction: 'to' | 'from', reference: string): string => `cloned ${direction} ${reference}`,

  /** `noteable_moved`: `moved to <ref>` on the original, `moved from <ref>` on the new issue. */
  moved: (direction: 'to' | 'from', reference: string): string => `moved ${direction} ${reference}`,
};

/**
 * `Issue#to_reference(from)`: `#iid` in the same project, `project#iid` from another project of
 * the same namespace, `group/project#iid` from anywhere else.
 */
export function issueReference(issue: SimIssue, project: SimProject, from: SimProject): string {
  if (project.id === from.id) return `#${issue.iid}`;
  if (project.namespaceId === from.namespaceId) return `${project.path}#${issue.iid}`;
  return `${project.pathWithNamespace}#${issue.iid}`;
}
