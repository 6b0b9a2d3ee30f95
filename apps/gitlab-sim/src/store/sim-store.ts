import type { Clock } from './clock';
import {
  ACCESS_LEVELS,
  type AccessLevel,
  type DeliveryRecord,
  type SimGroup,
  type SimHook,
  type SimIssue,
  type SimLabel,
  type SimMember,
  type SimNote,
  type SimProject,
  type SimSpamLog,
  type SimToken,
  type SimUser,
} from './models';
import { ProjectIssues } from './project-issues';

/** Deliveries kept in memory (oldest dropped first); enough for benchmarks, bounded for long runs. */
export const MAX_DELIVERY_RECORDS = 50_000;

interface Sequences {
  user: number;
  token: number;
  group: number;
  project: number;
  issue: number;
  note: number;
  label: number;
  hook: number;
  delivery: number;
  spamLog: number;
}

const freshSequences = (): Sequences => ({
  user: 0,
  token: 0,
  group: 0,
  project: 0,
  issue: 0,
  note: 0,
  label: 0,
  hook: 0,
  delivery: 0,
  spamLog: 0,
});

/**
 * All state of the simulator, in memory, with the indexes the API needs. Plain data and lookups
 * only: rules (permissions, webhooks, system notes) live in the domain services.
 */
export class SimStore {
  private seq: Sequences = freshSequences();

  readonly users = new Map<number, SimUser>();
  readonly usersByUsername = new Map<string, SimUser>();
  readonly tokens = new Map<number, SimToken>();
  readonly tokensByValue = new Map<string, SimToken>();
  readonly groups = new Map<number, SimGroup>();
  readonly groupsByPath = new Map<string, SimGroup>();
  readonly groupMembers = new Map<number, Map<number, SimMember>>();
  readonly projects = new Map<number, SimProject>();
  readonly projectsByPath = new Map<string, SimProject>();
  readonly projectMembers = new Map<number, Map<number, SimMember>>();
  readonly issues = new Map<number, SimIssue>();
  readonly projectIssues = new Map<number, ProjectIssues>();
  readonly notes = new Map<number, SimNote>();
  readonly notesByIssue = new Map<number, SimNote[]>();
  readonly labels = new Map<number, SimLabel>();
  readonly projectLabels = new Map<number, Map<string, SimLabel>>();
  readonly groupLabels = new Map<number, Map<string, SimLabel>>();
  readonly hooks = new Map<number, SimHook>();
  readonly hooksByProject = new Map<number, Map<number, SimHook>>();
  readonly deliveries = new Map<number, DeliveryRecord>();
  readonly spamLogs = new Map<number, SimSpamLog>();

  constructor(readonly clock: Clock) {}

  reset(): void {
    this.seq = freshSequences();
    for (const map of [
      this.users,
      this.usersByUsername,
      this.tokens,
      this.tokensByValue,
      this.groups,
      this.groupsByPath,
      this.groupMembers,
      this.projects,
      this.projectsByPath,
      this.projectMembers,
      this.issues,
      this.projectIssues,
      this.notes,
      this.notesByIssue,
      this.labels,
      this.projectLabels,
      this.groupLabels,
      this.hooks,
      this.hooksByProject,
      this.deliveries,
      this.spamLogs,
    ] as Array<Map<unknown, unknown>>) {
      map.clear();
    }
  }

  nextId(kind: keyof Sequences): number {
    this.seq[kind] += 1;
    return this.seq[kind];
  }

  /** Makes sure later ids are above `id` (used when a caller chooses ids). */
  reserveId(kind: keyof Sequences, id: number): void {
    if (id > this.seq[kind]) this.seq[kind] = id;
  }

  // Users and tokens

  addUser(user: SimUser): void {
    this.users.set(user.id, user);
    this.usersByUsername.set(user.username.toLowerCase(), user);
  }

  userByUsername(username: string): SimUser | undefined {
    return this.usersByUsername.get(username.toLowerCase());
  }

  addToken(token: SimToken): void {
    this.tokens.set(token.id, token);
    this.tokensByValue.set(token.value, token);
  }

  // Groups and projects

  addGroup(group: SimGroup): void {
    this.groups.set(group.id, group);
    this.groupsByPath.set(group.fullPath.toLowerCase(), group);
    this.groupMembers.set(group.id, new Map());
    this.groupLabels.set(group.id, new Map());
  }

  groupByPath(fullPath: string): SimGroup | undefined {
    return this.groupsByPath.get(fullPath.toLowerCase());
  }

  /** The group and its ancestors, nearest first. */
  groupChain(groupId: number | null): SimGroup[] {
    const chain: SimGroup[] = [];
    let current = groupId === null ? undefined : this.groups.get(groupId);
    while (current) {
      chain.push(current);
      current = current.parentId === null ? undefined : this.groups.get(current.parentId);
    }
    return chain;
  }

  addProject(project: SimProject): void {
    this.projects.set(project.id, project);
    this.projectsByPath.set(project.pathWithNamespace.toLowerCase(), project);
    this.projectMembers.set(project.id, new Map());
    this.projectIssues.set(project.id, new ProjectIssues());
    this.projectLabels.set(project.id, new Map());
    this.hooksByProject.set(project.id, new Map());
  }

  /** By numeric id or by full path (`group/sub/project`), as `GET /projects/:id` resolves it. */
  projectByRef(ref: string): SimProject | undefined {
    if (/^\d+$/.test(ref)) return this.projects.get(Number(ref));
    return this.projectsByPath.get(ref.toLowerCase());
  }

  /**
   * The membership that decides a user's role in a project: the highest of the project's own
   * members and the members of every ancestor group (GitLab's `members/all`).
   */
  effectiveMembership(project: SimProject, userId: number): SimMember | undefined {
    let best = this.projectMembers.get(project.id)?.get(userId);
    for (const group of this.groupChain(project.namespaceId)) {
      const member = this.groupMembers.get(group.id)?.get(userId);
      if (member && (!best || member.accessLevel > best.accessLevel)) best = member;
    }
    return best;
  }

  accessLevel(project: SimProject, user: SimUser | null): AccessLevel {
    if (!user) return ACCESS_LEVELS.none;
    return this.effectiveMembership(project, user.id)?.accessLevel ?? ACCESS_LEVELS.none;
  }

  issuesOf(projectId: number): ProjectIssues {
    const issues = this.projectIssues.get(projectId);
    if (!issues) throw new Error(`no issue index for project ${projectId}`);
    return issues;
  }

  // Labels

  /** Labels an issue of the project may carry: its own and those of every ancestor group. */
  availableLabels(project: SimProject): SimLabel[] {
    const labels = [...(this.projectLabels.get(project.id)?.values() ?? [])];
    for (const group of this.groupChain(project.namespaceId))
      labels.push(...(this.groupLabels.get(group.id)?.values() ?? []));
    return labels;
  }

  findAvailableLabel(project: SimProject, title: string): SimLabel | undefined {
    const own = this.projectLabels.get(project.id)?.get(title);
    if (own) return own;
    for (const group of this.groupChain(project.namespaceId)) {
      const label = this.groupLabels.get(group.id)?.get(title);
      if (label) return label;
    }
    return undefined;
  }

  addLabel(label: SimLabel): void {
    this.labels.set(label.id, label);
    if (label.projectId !== null) this.projectLabels.get(label.projectId)?.set(label.title, label);
    else if (label.groupId !== null) this.groupLabels.get(label.groupId)?.set(label.title, label);
  }

  // Notes

  addNote(note: SimNote): void {
    this.notes.set(note.id, note);
    let list = this.notesByIssue.get(note.issueId);
    if (!list) {
      list = [];
      this.notesByIssue.set(note.issueId, list);
    }
    list.push(note);
  }

  removeNote(note: SimNote): void {
    this.notes.delete(note.id);
    const list = this.notesByIssue.get(note.issueId);
    if (list) {
      const index = list.indexOf(note);
      if (index >= 0) list.splice(index, 1);
    }
  }

  // Hooks and deliveries

  addHook(hook: SimHook): void {
    this.hooks.set(hook.id, hook);
    this.hooksByProject.get(hook.projectId)?.set(hook.id, hook);
  }

  removeHook(hook: SimHook): void {
    this.hooks.delete(hook.id);
    this.hooksByProject.get(hook.projectId)?.delete(hook.id);
  }

  addDelivery(record: DeliveryRecord): void {
    this.deliveries.set(record.id, record);
    if (this.deliveries.size > MAX_DELIVERY_RECORDS) {
      const oldest = this.deliveries.keys().next().value;
      if (oldest !== undefined) this.deliveries.delete(oldest);
    }
  }
}
