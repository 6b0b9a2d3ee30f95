import { randomBytes } from 'node:crypto';

import { GitlabError } from '../domain/gitlab-error';
import { ALL_RIGHTS, relativePositionFor } from '../domain/issue.service';
import type { Simulator } from '../simulator';
import {
  VALID_ACCESS_LEVELS,
  type AccessLevel,
  type SimGroup,
  type SimIssue,
  type SimLabel,
  type SimProject,
  type SimToken,
  type SimUser,
  type Visibility,
} from '../store/models';

export interface UserSpec {
  username: string;
  name?: string;
  email?: string;
  publicEmail?: string | null;
  admin?: boolean;
  bot?: boolean;
  state?: 'active' | 'blocked';
}

export interface TokenSpec {
  userId: number;
  /** The secret; generated (`glpat-…`) when absent. */
  value?: string;
  name?: string;
  description?: string | null;
  scopes?: string[];
  expiresAt?: string | null;
  revoked?: boolean;
}

export interface ProjectSpec {
  /** Full path, groups included: `group/sub/project`. */
  path: string;
  name?: string;
  description?: string | null;
  visibility?: Visibility;
  defaultBranch?: string;
  issuesEnabled?: boolean;
}

export interface BulkIssueSpec {
  count: number;
  /** Share of issues created closed, 0–100. */
  closedPercent?: number;
  confidentialPercent?: number;
  /** Share of issues carrying one `priority::*` label. */
  priorityLabelsPercent?: number;
  /** Extra labels on every issue (created when missing). */
  labels?: string[];
  /** `{{n}}` is the sequence number in this batch, `{{iid}}` the issue's iid. */
  titleTemplate?: string;
  descriptionTemplate?: string | null;
  authorId?: number;
  /** created_at of the first issue (epoch ms); defaults so that the last one is "now". */
  startAt?: number;
  /** Time between consecutive created_at values. */
  intervalMs?: number;
  /** Seed of the pseudo-random choices, for reproducible data. */
  seed?: number;
}

export const PRIORITY_LABELS: ReadonlyArray<{ name: string; color: string; priority: number }> = [
  { name: 'priority::critical', color: '#D9534F', priority: 1 },
  { name: 'priority::high', color: '#F0AD4E', priority: 2 },
  { name: 'priority::medium', color: '#5BC0DE', priority: 3 },
  { name: 'priority::low', color: '#8FBC8F', priority: 4 },
];

/** Small, fast, seedable PRNG (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fill = (template: string, n: number, iid: number): string =>
  template.replace(/\{\{n\}\}/g, String(n)).replace(/\{\{iid\}\}/g, String(iid));

/** Creates users, tokens, groups, projects, members and issues directly (no webhooks, no permission checks). */
export class Seeder {
  constructor(private readonly sim: Simulator) {}

  private get store() {
    return this.sim.store;
  }

  createUser(spec: UserSpec): SimUser {
    if (!/^[A-Za-z0-9_.-]+$/.test(spec.username))
      throw new GitlabError(400, { error: 'username is invalid' });
    if (this.store.userByUsername(spec.username))
      throw new GitlabError(409, { error: `user ${spec.username} already exists` });
    const user: SimUser = {
      id: this.store.nextId('user'),
      username: spec.username,
      name: spec.name ?? spec.username.replace(/[-_.]/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
      email: spec.email ?? `${spec.username}@example.com`,
      publicEmail: spec.publicEmail ?? null,
      state: spec.state ?? 'active',
      admin: spec.admin ?? false,
      bot: spec.bot ?? false,
      createdAt: this.sim.clock.now(),
    };
    this.store.addUser(user);
    return user;
  }

  createToken(spec: TokenSpec): SimToken {
    if (!this.store.users.has(spec.userId))
      throw new GitlabError(404, { error: `user ${spec.userId} not found` });
    const value = spec.value ?? `glpat-${randomBytes(15).toString('base64url')}`;
    if (this.store.tokensByValue.has(value))
      throw new GitlabError(409, { error: 'a token with this value already exists' });
    if (spec.expiresAt && !/^\d{4}-\d{2}-\d{2}$/.test(spec.expiresAt))
      throw new GitlabError(400, { error: 'expiresAt must be YYYY-MM-DD' });
    const token: SimToken = {
      id: this.store.nextId('token'),
      userId: spec.userId,
      name: spec.name ?? 'sim token',
      description: spec.description ?? null,
      value,
      scopes: spec.scopes ?? ['api'],
      expiresAt: spec.expiresAt ?? null,
      revoked: spec.revoked ?? false,
      createdAt: this.sim.clock.now(),
      lastUsedAt: null,
    };
    this.store.addToken(token);
    return token;
  }

  /** Creates the group and any missing ancestors (`a/b/c`). */
  ensureGroup(fullPath: string, visibility: Visibility = 'private'): SimGroup {
    const parts = fullPath.split('/').filter(Boolean);
    if (parts.length === 0 || parts.some((part) => !/^[A-Za-z0-9_.-]+$/.test(part))) {
      throw new GitlabError(400, { error: `invalid group path: ${fullPath}` });
    }
    let parent: SimGroup | undefined;
    let group: SimGroup | undefined;
    for (let depth = 1; depth <= parts.length; depth += 1) {
      const path = parts.slice(0, depth).join('/');
      group = this.store.groupByPath(path);
      if (!group) {
        const segment = parts[depth - 1];
        group = {
          id: this.store.nextId('group'),
          name: segment.replace(/[-_.]/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
          path: segment,
          fullPath: path,
          parentId: parent?.id ?? null,
          visibility,
          createdAt: this.sim.clock.now(),
        };
        this.store.addGroup(group);
      }
      parent = group;
    }
    if (!group) throw new GitlabError(400, { error: `invalid group path: ${fullPath}` });
    return group;
  }

  createProject(spec: ProjectSpec): SimProject {
    const parts = spec.path.split('/').filter(Boolean);
    if (parts.length < 2)
      throw new GitlabError(400, { error: 'path must include a namespace: group/project' });
    if (this.store.projectsByPath.has(parts.join('/').toLowerCase()))
      throw new GitlabError(409, { error: `project ${spec.path} already exists` });
    const path = parts[parts.length - 1];
    if (!/^[A-Za-z0-9_.-]+$/.test(path))
      throw new GitlabError(400, { error: `invalid project path: ${path}` });
    const visibility = spec.visibility ?? 'private';
    const namespace = this.ensureGroup(parts.slice(0, -1).join('/'), visibility);
    const now = this.sim.clock.now();
    const project: SimProject = {
      id: this.store.nextId('project'),
      name: spec.name ?? path,
      path,
      pathWithNamespace: parts.join('/'),
      description: spec.description ?? '',
      namespaceId: namespace.id,
      visibility,
      defaultBranch: spec.defaultBranch ?? 'main',
      createdAt: now,
      lastActivityAt: now,
      issuesEnabled: spec.issuesEnabled ?? true,
      labelCreationForbidden: false,
      legacyPayloads: null,
      nextIid: 1,
      archived: false,
      spamCheck: null,
    };
    this.store.addProject(project);
    return project;
  }

  setMember(
    target: { projectId?: number; groupId?: number },
    userId: number,
    accessLevel: number,
    expiresAt: string | null = null,
    createdById?: number,
  ): void {
    if (!VALID_ACCESS_LEVELS.includes(accessLevel))
      throw new GitlabError(400, { error: `accessLevel must be one of ${VALID_ACCESS_LEVELS.join(', ')}` });
    if (!this.store.users.has(userId)) throw new GitlabError(404, { error: `user ${userId} not found` });
    const members =
      target.projectId !== undefined
        ? this.store.projectMembers.get(target.projectId)
        : target.groupId !== undefined
          ? this.store.groupMembers.get(target.groupId)
          : undefined;
    if (!members) throw new GitlabError(404, { error: 'project or group not found' });
    // Who added the member: the given user, else an administrator, else the member (a project's creator).
    const creator = createdById ?? [...this.store.users.values()].find((user) => user.admin)?.id ?? userId;
    members.set(userId, {
      userId,
      accessLevel: accessLevel as AccessLevel,
      createdAt: this.sim.clock.now(),
      createdById: creator,
      expiresAt,
    });
  }

  removeMember(target: { projectId?: number; groupId?: number }, userId: number): void {
    if (target.projectId !== undefined) this.store.projectMembers.get(target.projectId)?.delete(userId);
    if (target.groupId !== undefined) this.store.groupMembers.get(target.groupId)?.delete(userId);
  }

  ensureLabel(project: SimProject, name: string, color: string, priority: number | null = null): SimLabel {
    const existing = this.store.findAvailableLabel(project, name);
    if (existing) return existing;
    return this.sim.labels.createProjectLabel(project, { name, color, priority });
  }

  /**
   * N issues in one go, built directly into the indexes: no webhooks, no system notes. 100,000
   * issues take well under a second.
   */
  bulkIssues(
    project: SimProject,
    spec: BulkIssueSpec,
  ): { created: number; firstIid: number; lastIid: number } {
    const count = Math.floor(spec.count);
    if (!Number.isFinite(count) || count < 1 || count > 1_000_000)
      throw new GitlabError(400, { error: 'count must be between 1 and 1000000' });
    const authorId = spec.authorId ?? this.defaultAuthor(project);
    const rand = random(spec.seed ?? 42);
    const priorityIds =
      (spec.priorityLabelsPercent ?? 0) > 0
        ? PRIORITY_LABELS.map(
            (label) => this.ensureLabel(project, label.name, label.color, label.priority).id,
          )
        : [];
    const extraIds = (spec.labels ?? []).map((name) => this.ensureLabel(project, name, '#6699cc').id);
    const intervalMs = spec.intervalMs ?? 1_000;
    const startAt = spec.startAt ?? this.sim.clock.now() - count * intervalMs;
    const titleTemplate = spec.titleTemplate ?? 'Seeded issue {{n}}';
    const descriptionTemplate =
      spec.descriptionTemplate === undefined
        ? 'Seeded issue number {{n}} for project testing.'
        : spec.descriptionTemplate;
    const index = this.store.issuesOf(project.id);
    const firstIid = project.nextIid;
    const batch: SimIssue[] = new Array<SimIssue>(count);
    let confidentialCount = 0;
    for (let n = 1; n <= count; n += 1) {
      const iid = project.nextIid++;
      const createdAt = startAt + (n - 1) * intervalMs;
      const closed = rand() * 100 < (spec.closedPercent ?? 0);
      const confidential = rand() * 100 < (spec.confidentialPercent ?? 0);
      const labelIds = [...extraIds];
      if (priorityIds.length > 0 && rand() * 100 < (spec.priorityLabelsPercent ?? 0))
        labelIds.push(priorityIds[Math.floor(rand() * priorityIds.length)]);
      const updatedAt = closed ? createdAt + Math.floor(intervalMs / 2) : createdAt;
      if (confidential) confidentialCount += 1;
      batch[n - 1] = {
        id: this.store.nextId('issue'),
        iid,
        projectId: project.id,
        title: fill(titleTemplate, n, iid),
        description: descriptionTemplate === null ? null : fill(descriptionTemplate, n, iid),
        state: closed ? 'closed' : 'opened',
        type: 'Issue',
        confidential,
        discussionLocked: null,
        authorId,
        assigneeIds: [],
        labelIds,
        dueDate: null,
        weight: null,
        relativePosition: relativePositionFor(iid),
        upvotes: 0,
        createdAt,
        updatedAt,
        updatedById: null,
        closedAt: closed ? updatedAt : null,
        closedById: closed ? authorId : null,
        lastEditedAt: null,
        lastEditedById: null,
        userNotesCount: 0,
        version: 0,
        deleted: false,
      };
    }
    for (const issue of batch) this.store.issues.set(issue.id, issue);
    index.addSorted(batch);
    index.confidentialCount += confidentialCount;
    return { created: count, firstIid, lastIid: project.nextIid - 1 };
  }

  private defaultAuthor(project: SimProject): number {
    let best: { userId: number; level: number } | undefined;
    for (const [userId, member] of this.store.projectMembers.get(project.id) ?? []) {
      if (!best || member.accessLevel > best.level) best = { userId, level: member.accessLevel };
    }
    const fallback = best?.userId ?? [...this.store.users.values()][0]?.id;
    if (fallback === undefined)
      throw new GitlabError(400, { error: 'create a user first (issues need an author)' });
    return fallback;
  }

  /**
   * The demo a newcomer gets from `npm start`: project `demo/testkase-demo` (private) with 25
   * issues, a Maintainer `integration-bot` and a Developer `dev-alice`, both with `api` tokens.
   */
  seedDemo(): { project: SimProject; maintainer: SimUser; developer: SimUser } {
    const { config } = this.sim;
    const root = this.createUser({
      username: 'root',
      name: 'Administrator',
      admin: true,
      email: 'admin@example.com',
    });
    const maintainer = this.createUser({ username: 'integration-bot', name: 'Integration Bot' });
    const developer = this.createUser({
      username: 'dev-alice',
      name: 'Alice Developer',
      publicEmail: 'alice@example.com',
    });
    const reporter = this.createUser({ username: 'rep-rita', name: 'Rita Reporter' });
    this.createToken({
      userId: maintainer.id,
      value: config.GITLAB_SIM_MAINTAINER_TOKEN,
      name: 'integration',
      scopes: ['api'],
    });
    this.createToken({
      userId: developer.id,
      value: config.GITLAB_SIM_DEVELOPER_TOKEN,
      name: 'alice',
      scopes: ['api'],
    });
    const project = this.createProject({
      path: 'demo/testkase-demo',
      name: 'TestKase Demo',
      description: 'Demo project of the GitLab simulator',
      visibility: 'private',
    });
    const group = this.ensureGroup('demo');
    this.setMember({ groupId: group.id }, root.id, 50);
    this.setMember({ projectId: project.id }, maintainer.id, 40);
    this.setMember({ projectId: project.id }, developer.id, 30);
    this.setMember({ projectId: project.id }, reporter.id, 20);
    for (const label of PRIORITY_LABELS) this.ensureLabel(project, label.name, label.color, label.priority);
    this.ensureLabel(project, 'bug', '#D9534F');
    this.ensureLabel(project, 'feature', '#428BCA');

    const titles = [
      'Login fails with SSO when the session expires',
      'Export to CSV drops the last column',
      'Add dark mode to the dashboard',
      'Search ignores accented characters',
      'Crash when uploading a file larger than 2 GB',
      'Improve error message on invalid token',
      'Pagination skips items on the last page',
      'Support Markdown tables in descriptions',
      'Timezone shown in UTC instead of local time',
      'Slow load of the project overview',
      'Add keyboard shortcuts for navigation',
      'Notifications are sent twice',
      'Allow bulk editing of labels',
      'Broken link in the onboarding email',
      'Password reset token never expires',
      'API returns 500 for empty filters',
      'Document the webhook retry policy',
      'Sort by priority puts unlabelled items first',
      'Mobile layout overflows on small screens',
      'Audit log misses label changes',
      'Add an "assigned to me" filter',
      'Spelling mistakes on the settings page',
      'Rate limit hit during nightly sync',
      'Security: rotate the signing keys',
      'Upgrade the charting library',
    ];
    const priorities = ['priority::critical', 'priority::high', 'priority::medium', 'priority::low'];
    const day = 24 * 60 * 60_000;
    const start = this.sim.clock.now() - titles.length * day;
    titles.forEach((title, index) => {
      const labels: string[] = [];
      if (index % 3 === 0) labels.push(priorities[(index / 3) % priorities.length]);
      labels.push(index % 4 === 1 ? 'feature' : 'bug');
      const author = index % 2 === 0 ? developer : root;
      const issue = this.sim.issues.create(
        { actor: author },
        project,
        {
          title,
          description: `${title}.\n\nSteps to reproduce and expected behaviour go here (demo issue ${index + 1}).`,
          labels,
          confidential: index === 23,
          createdAt: start + index * day,
        },
        ALL_RIGHTS,
      );
      if (index % 5 === 4)
        this.sim.issues.update({ actor: root }, project, issue, { stateEvent: 'close' }, ALL_RIGHTS);
      if (index % 6 === 0)
        this.sim.notes.create(
          { actor: root },
          project,
          issue,
          { body: 'Confirmed on the latest build.', internal: false },
          ALL_RIGHTS,
        );
    });
    return { project, maintainer, developer };
  }
}
