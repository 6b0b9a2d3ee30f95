import { AppError } from '@testkase/util';

import {
  createGitlabClient,
  GitlabLimiterRegistry,
  type GitlabClient,
  type GitlabClientOptions,
  type GitlabLogger,
  type UrlPolicy,
} from '../src';
import type { FakeGitlab } from './fake-gitlab.server';

export const TOKEN = 'glpat-Sup3rS3cretT0kenValue-x7Qa';

/** The fake listens on 127.0.0.1, so every test but the SSRF ones admits private networks. */
export const LOCAL_POLICY: UrlPolicy = { allowPrivateNetwork: true, allowedHosts: [] };

export const FAST_RETRY = { maxAttempts: 3, maxTotalWaitMs: 10_000, baseDelayMs: 10, maxDelayMs: 40 };

export interface LogLine {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

export function recordingLogger(lines: LogLine[]): GitlabLogger {
  const record =
    (level: string) =>
    (obj: Record<string, unknown>, msg: string): void => {
      lines.push({ level, obj, msg });
    };
  return { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

const openClients: GitlabClient[] = [];

/** A client for the fake, with its own limiter registry and fast retries unless overridden. */
export function clientFor(
  fake: Pick<FakeGitlab, 'baseUrl'>,
  overrides: Partial<GitlabClientOptions> = {},
): GitlabClient {
  const client = createGitlabClient({
    instanceUrl: fake.baseUrl,
    token: TOKEN,
    policy: LOCAL_POLICY,
    limiterRegistry: new GitlabLimiterRegistry(),
    retry: FAST_RETRY,
    ...overrides,
  });
  openClients.push(client);
  return client;
}

export async function closeClients(): Promise<void> {
  await Promise.all(openClients.splice(0).map((client) => client.close()));
}

/** Awaits a promise that must reject with an AppError, and returns the error. */
export async function appErrorFrom(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw new Error(`expected an AppError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail, but it succeeded');
}
