import { randomBytes } from 'node:crypto';

import { GitlabSimClient, SIM_ACCESS, type SimBulkIssues, type SimProjectInfo } from './gitlab-sim-client';

/** A GitLab project in the simulator with a Maintainer token for the integration and a Developer. */
export interface SimProject {
  readonly sim: GitlabSimClient;
  readonly info: SimProjectInfo;
  readonly id: number;
  readonly path: string;
  readonly webUrl: string;
  /** Token of the integration's user (Maintainer, scope api). */
  readonly token: string;
  readonly botUserId: number;
  /** Username of the integration's user (who creates pushed defects' issues). */
  readonly bot: string;
  /** Username of a Developer who edits issues (webhooks fire as for any user). */
  readonly developer: string;
}

/** Creates users, a project and its members; `issues` seeds issues in bulk (no webhooks). */
export async function createSimProject(
  simUrl: string,
  options: { path?: string; issues?: SimBulkIssues } = {},
): Promise<SimProject> {
  const sim = new GitlabSimClient(simUrl);
  const suffix = randomBytes(3).toString('hex');
  const bot = await sim.createUser({ username: `bot-${suffix}`, name: 'Integration Bot' });
  const developer = await sim.createUser({ username: `dev-${suffix}`, name: 'Dev' });
  const token = await sim.createToken({ username: bot.username, scopes: ['api'] });
  const info = await sim.createProject({ path: options.path ?? `team-${suffix}/requirements-${suffix}` });
  await sim.addMember({ project: info.id, username: bot.username, accessLevel: SIM_ACCESS.maintainer });
  await sim.addMember({ project: info.id, username: developer.username, accessLevel: SIM_ACCESS.developer });
  if (options.issues) await sim.seedIssues(info.id, { author: developer.username, ...options.issues });
  return {
    sim,
    info,
    id: info.id,
    path: info.pathWithNamespace,
    webUrl: info.webUrl,
    token: token.token,
    botUserId: bot.id,
    bot: bot.username,
    developer: developer.username,
  };
}

/** Registers a project hook for issue events (what connection-service does on connect). */
export async function createIssueHook(project: SimProject, url: string): Promise<number> {
  const response = await fetch(`${project.sim.apiUrl}/projects/${project.id}/hooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'private-token': project.token },
    body: JSON.stringify({
      url,
      issues_events: true,
      confidential_issues_events: true,
      push_events: false,
      enable_ssl_verification: false,
    }),
  });
  if (response.status !== 201)
    throw new Error(`hook creation answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: number }).id;
}
