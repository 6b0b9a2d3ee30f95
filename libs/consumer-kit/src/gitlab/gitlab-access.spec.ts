import type { DataSource } from 'typeorm';

import type { ConnectionCredentials } from '@testkase/contracts';
import { processLimiterRegistry } from '@testkase/gitlab';
import type { Logger, Outbox } from '@testkase/platform';
import { loadConfig } from '@testkase/platform/config';

import { GitlabConsumerConfig } from '../config/gitlab-consumer.config';
import type { ConnectionProjection } from '../connections/connection-projection';
import type { CredentialsProvider } from './credentials.provider';
import { GitlabAccess } from './gitlab-access.service';

const silent = {
  child: () => silent,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as Logger;

/** The credentials port, answering from a map (a token per connection). */
function credentialsOf(tokens: Map<string, string>): CredentialsProvider {
  return {
    get: async (connectionId: string): Promise<ConnectionCredentials> =>
      ({
        connectionId,
        instanceUrl: 'https://gitlab.example.org',
        token: tokens.get(connectionId) ?? 'glpat-missing',
        gitlabProjectId: 1,
        tokenUserId: 1,
        caCertificate: null,
      }) as unknown as ConnectionCredentials,
    forget: () => undefined,
  } as unknown as CredentialsProvider;
}

describe('GitlabAccess and the per-token limiters', () => {
  it('releases the token limiter when a connection is forgotten (disconnect) or its token replaced', async () => {
    const tokens = new Map([
      ['c-1', 'glpat-access-spec-one'],
      ['c-2', 'glpat-access-spec-two'],
    ]);
    const config = loadConfig(GitlabConsumerConfig, { CORE_API_TOKEN: 'x' });
    const access = new GitlabAccess(
      'spec',
      credentialsOf(tokens),
      {} as ConnectionProjection,
      {} as DataSource,
      {} as Outbox,
      config,
      silent,
    );
    const before = processLimiterRegistry.size;
    await access.clientFor('c-1');
    await access.clientFor('c-2');
    expect(processLimiterRegistry.size).toBe(before + 2);

    access.forget('c-1');
    expect(processLimiterRegistry.size).toBe(before + 1);

    tokens.set('c-2', 'glpat-access-spec-rotated');
    await access.clientFor('c-2');
    expect(processLimiterRegistry.size).toBe(before + 1);

    await access.close();
    expect(processLimiterRegistry.size).toBe(before);
  });
});
