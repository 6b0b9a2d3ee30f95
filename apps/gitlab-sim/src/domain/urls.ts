import { createHash } from 'node:crypto';

import type { SimIssue, SimProject, SimUser } from '../store/models';

/** Every URL the simulator hands out, rooted at GITLAB_SIM_EXTERNAL_URL. */
export class SimUrls {
  private readonly avatars = new Map<number, string>();

  constructor(private base: string) {}

  get baseUrl(): string {
    return this.base;
  }

  /** The external URL is only known after listen() when PORT=0. */
  setBaseUrl(base: string): void {
    this.base = base.replace(/\/+$/, '');
  }

  api(path: string): string {
    return `${this.base}/api/v4${path}`;
  }

  user(user: SimUser): string {
    return `${this.base}/${user.username}`;
  }

  avatar(user: SimUser): string {
    let url = this.avatars.get(user.id);
    if (!url) {
      const hash = createHash('sha256').update(user.email.trim().toLowerCase()).digest('hex');
      url = `https://www.gravatar.com/avatar/${hash}?s=80&d=identicon`;
      this.avatars.set(user.id, url);
    }
    return url;
  }

  project(project: SimProject): string {
    return `${this.base}/${project.pathWithNamespace}`;
  }

  gitHttp(project: SimProject): string {
    return `${this.project(project)}.git`;
  }

  gitSsh(project: SimProject): string {
    return `git@${new URL(this.base).hostname}:${project.pathWithNamespace}.git`;
  }

  /** Issues (and incidents, test cases) live under /-/issues; other work items under /-/work_items. */
  issue(project: SimProject, issue: SimIssue): string {
    const section =
      issue.type === 'Issue' || issue.type === 'Incident' || issue.type === 'Test Case'
        ? 'issues'
        : 'work_items';
    return `${this.project(project)}/-/${section}/${issue.iid}`;
  }

  /** 2018-generation URLs had no `/-/` segment. */
  legacyIssue(project: SimProject, issue: SimIssue): string {
    return `${this.project(project)}/issues/${issue.iid}`;
  }

  workItem(project: SimProject, issue: SimIssue): string {
    return `${this.project(project)}/-/work_items/${issue.iid}`;
  }
}
