import { randomBytes } from 'node:crypto';

import { DataSource } from 'typeorm';

import { GitlabLimiterRegistry, type GitlabRateLimits } from '@testkase/gitlab';
import { dropDatabase, ensureDatabase } from '@testkase/platform';

import { gitlabRateLimitsV1Up } from './gitlab-rate-limits.migration';
import { PostgresLimiterStore } from './postgres-limiter.store';

const SCHEMA = 'kit_limits';
/** Four requests a second, one at once: the spacing is 250 ms. */
const FOUR_PER_SECOND: GitlabRateLimits = {
  requests: { points: 4, durationSeconds: 1 },
  issueCreates: null,
  noteCreates: null,
};

/** Two "replicas": each its own DataSource and registry, on one database. */
describe('PostgresLimiterStore (real Postgres)', () => {
  const url = new URL('postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/tk_kit_limits_${randomBytes(6).toString('hex')}`;
  const sources: DataSource[] = [];

  beforeAll(async () => {
    await ensureDatabase(url.toString());
    for (let i = 0; i < 2; i++) {
      const source = new DataSource({ type: 'postgres', url: url.toString(), poolSize: 4 });
      await source.initialize();
      sources.push(source);
    }
    await sources[0]!.query(`CREATE SCHEMA ${SCHEMA}`);
    for (const sql of gitlabRateLimitsV1Up(SCHEMA)) await sources[0]!.query(sql);
  });

  afterAll(async () => {
    await Promise.all(sources.map((source) => source.destroy().catch(() => undefined)));
    await dropDatabase(url.toString());
  });

  const replicas = () =>
    sources.map((source) => new GitlabLimiterRegistry({ store: new PostgresLimiterStore(source, SCHEMA) }));

  it('spaces the requests of two replicas as one budget', async () => {
    const [a, b] = replicas();
    const token = `glpat-${randomBytes(8).toString('hex')}`;
    const limiters = [a!, b!].map(
      (registry) => registry.lease('https://gitlab.example.org', token, FOUR_PER_SECOND).limiter,
    );
    const start = Date.now();
    const sentAt: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        await limiters[i % 2]!.acquire('request', 10_000);
        sentAt.push(Date.now() - start);
      }),
    );
    sentAt.sort((x, y) => x - y);
    // One budget: 8 requests at 4 a second take about 1.75 s, not the 0.75 s of two budgets.
    expect(sentAt.at(-1)!).toBeGreaterThanOrEqual(1_600);
    for (let i = 4; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 4]!).toBeGreaterThanOrEqual(950);
  });

  it('holds a pause one replica was told about for the other too, and keeps no token in the table', async () => {
    const [a, b] = replicas();
    const token = `glpat-${randomBytes(8).toString('hex')}`;
    const first = a!.lease('https://gitlab.example.org', token, FOUR_PER_SECOND).limiter;
    const second = b!.lease('https://gitlab.example.org', token, FOUR_PER_SECOND).limiter;
    await first.pauseFor(700);
    const start = Date.now();
    expect(await second.acquire('request', 10_000)).toBeGreaterThanOrEqual(500);
    expect(Date.now() - start).toBeGreaterThanOrEqual(500);

    const rows = await sources[0]!.query<Array<{ token_key: string }>>(
      `SELECT token_key FROM ${SCHEMA}.gitlab_rate_limits`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.token_key) && !row.token_key.includes(token))).toBe(
      true,
    );
  });
});
