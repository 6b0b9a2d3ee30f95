import pino from 'pino';

import { GitlabSimClient } from '@testkase/testing';

import { loadSimConfig } from '../../src/config/sim.config';
import { createSimServer, type SimServer } from '../../src/server';
import type { Simulator } from '../../src/simulator';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the body as application/x-www-form-urlencoded. */
  form?: boolean;
}

export interface TestSim {
  server: SimServer;
  sim: Simulator;
  url: string;
  client: GitlabSimClient;
  /** Calls `/api/v4<path>` (path already encoded). */
  api<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/** Starts a simulator in-process on a free port, without the demo unless asked. */
export async function startTestSim(env: Record<string, string> = {}): Promise<TestSim> {
  const config = loadSimConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    GITLAB_SIM_SEED_DEMO: 'false',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await createSimServer(config, { logger: pino({ level: 'silent' }) });
  const url = await server.listen();
  const api = async <T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['private-token'] = options.token;
    let body: string | undefined;
    if (options.body !== undefined) {
      if (options.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(options.body as Record<string, string>).toString();
      } else {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.body);
      }
    }
    const response = await fetch(`${url}/api/v4${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // plain text (e.g. Rack::Attack's "Retry later")
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  };
  return {
    server,
    sim: server.sim,
    url,
    client: new GitlabSimClient(url),
    api,
    close: () => server.close(),
  };
}

export const enc = (path: string): string => encodeURIComponent(path);

/** A project with a maintainer, a developer, a reporter and a guest, each with an `api` token. */
export interface TeamProject {
  projectId: number;
  path: string;
  tokens: {
    maintainer: string;
    developer: string;
    reporter: string;
    guest: string;
    owner: string;
    outsider: string;
  };
  userIds: {
    maintainer: number;
    developer: number;
    reporter: number;
    guest: number;
    owner: number;
    outsider: number;
  };
}

export async function createTeamProject(
  client: GitlabSimClient,
  path = 'acme/platform/backend',
  visibility: 'private' | 'public' = 'private',
): Promise<TeamProject> {
  const roles = { owner: 50, maintainer: 40, developer: 30, reporter: 20, guest: 10 } as const;
  const slug = path.replace(/[^a-z0-9]/gi, '-');
  const project = await client.createProject({ path, visibility });
  const tokens = {} as TeamProject['tokens'];
  const userIds = {} as TeamProject['userIds'];
  for (const [role, level] of Object.entries(roles) as Array<
    [keyof typeof roles, (typeof roles)[keyof typeof roles]]
  >) {
    const user = await client.createUser({ username: `${role}-${slug}` });
    await client.addMember({ project: project.id, username: user.username, accessLevel: level });
    tokens[role] = (await client.createToken({ username: user.username, scopes: ['api'] })).token;
    userIds[role] = user.id;
  }
  const outsider = await client.createUser({ username: `outsider-${slug}` });
  tokens.outsider = (await client.createToken({ username: outsider.username })).token;
  userIds.outsider = outsider.id;
  return { projectId: project.id, path, tokens, userIds };
}
