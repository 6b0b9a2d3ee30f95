import type { MigrationInterface, QueryRunner } from 'typeorm';

import { assertIdentifier } from '@testkase/platform';

/**
 * DDL of the table where the replicas of a consumer share each token's GitLab budget (version 1;
 * {@link PostgresLimiterStore}): one row per (token key, category) holding the next free slot on
 * Postgres's clock (epoch ms), and a `pause` row for the server-imposed pause. `token_key` is a
 * sha256 of the instance URL and the token's own sha256, never the token. Append-only.
 */
export function gitlabRateLimitsV1Up(schema: string): string[] {
  const s = `"${assertIdentifier(schema)}"`;
  return [
    `CREATE TABLE ${s}.gitlab_rate_limits (
       token_key text NOT NULL,
       category text NOT NULL CHECK (category IN ('request', 'issueCreate', 'noteCreate', 'pause')),
       next_at_ms double precision NOT NULL,
       PRIMARY KEY (token_key, category)
     )`,
  ];
}

export function gitlabRateLimitsV1Down(schema: string): string[] {
  return [`DROP TABLE "${assertIdentifier(schema)}".gitlab_rate_limits`];
}

/**
 * The migration that creates a consumer's shared GitLab rate-limit table. A service's migration is
 * `class CreateGitlabRateLimits<ts> extends GitlabRateLimitsMigrationV1 { constructor() { super(SCHEMA); } }`.
 */
export abstract class GitlabRateLimitsMigrationV1 implements MigrationInterface {
  abstract readonly name: string;

  protected constructor(private readonly schema: string) {}

  async up(runner: QueryRunner): Promise<void> {
    for (const sql of gitlabRateLimitsV1Up(this.schema)) await runner.query(sql);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const sql of gitlabRateLimitsV1Down(this.schema)) await runner.query(sql);
  }
}
