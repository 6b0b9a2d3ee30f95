import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

import { WORKSPACE_ROOT } from '@testkase/testing';

/**
 * The scope/type rules of docs/STYLE.md are enforced by @nx/enforce-module-boundaries: these
 * imports must be refused (and the allowed ones accepted) by the workspace's real ESLint config.
 */
describe('module boundaries', () => {
  beforeAll(() => {
    // The rule reads Nx's project graph; computing it once makes it available to ESLint.
    execFileSync(
      process.execPath,
      [path.join(WORKSPACE_ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'],
      {
        cwd: WORKSPACE_ROOT,
        env: { ...process.env, NX_DAEMON: 'false' },
        stdio: 'ignore',
      },
    );
  }, 60_000);

  /** Lints `code` as if it were `file`, with the workspace's real ESLint config (run as its CLI). */
  const boundaryErrors = (file: string, code: string): string[] => {
    const result = spawnSync(
      process.execPath,
      [
        path.join(WORKSPACE_ROOT, 'node_modules/eslint/bin/eslint.js'),
        '--stdin',
        '--stdin-filename',
        file,
        '--format',
        'json',
        '--parser-options',
        'projectService:false',
        '--rule',
        '{"@typescript-eslint/no-floating-promises":"off","@typescript-eslint/switch-exhaustiveness-check":"off","@typescript-eslint/no-unused-vars":"off"}',
      ],
      { cwd: WORKSPACE_ROOT, input: code, encoding: 'utf8' },
    );
    const [report] = JSON.parse(result.stdout) as Array<{
      messages: Array<{ ruleId: string | null; message: string }>;
    }>;
    return (report?.messages ?? [])
      .filter((m) => m.ruleId === '@nx/enforce-module-boundaries')
      .map((m) => m.message);
  };

  it.each([
    [
      'a util lib importing the platform',
      'libs/util/src/probe.ts',
      "import { Outbox } from '@testkase/platform';",
    ],
    [
      'contracts importing the GitLab client',
      'libs/contracts/src/probe.ts',
      "import { createGitlabClient } from '@testkase/gitlab';",
    ],
    [
      'the platform importing the test harness',
      'libs/platform/src/probe.ts',
      "import { TestStack } from '@testkase/testing';",
    ],
    [
      'sync-rules importing contracts',
      'libs/sync-rules/src/probe.ts',
      "import { STREAMS } from '@testkase/contracts';",
    ],
    [
      'the platform importing the consumer kit',
      'libs/platform/src/probe.ts',
      "import { ConnectionProjection } from '@testkase/consumer-kit';",
    ],
    [
      'the GitLab client importing the consumer kit',
      'libs/gitlab/src/probe.ts',
      "import { GitlabAccess } from '@testkase/consumer-kit';",
    ],
    [
      'one app importing another by relative path',
      'apps/defect-sync/src/probe.ts',
      "import { AppModule } from '../../requirement-sync/src/app.module';",
    ],
  ])('refuses %s', (_case, file, code) => {
    expect(boundaryErrors(file, `${code}\nexport const probe = Object;\n`).length).toBeGreaterThan(0);
  });

  it.each([
    [
      'an app importing platform, contracts and sync-rules',
      'apps/requirement-sync/src/probe.ts',
      "import { Outbox } from '@testkase/platform';\nimport { STREAMS } from '@testkase/contracts';\nimport { labelsToPriority } from '@testkase/sync-rules';",
    ],
    [
      'an app importing the consumer kit',
      'apps/defect-sync/src/probe.ts',
      "import { ConnectionProjection } from '@testkase/consumer-kit';",
    ],
    [
      'the consumer kit importing the platform, the GitLab client and contracts',
      'libs/consumer-kit/src/probe.ts',
      "import { Outbox } from '@testkase/platform';\nimport { parseIssueHook } from '@testkase/gitlab';\nimport { STREAMS } from '@testkase/contracts';",
    ],
    [
      'the platform importing contracts and util',
      'libs/platform/src/probe.ts',
      "import { STREAMS } from '@testkase/contracts';\nimport { sleep } from '@testkase/util';",
    ],
  ])('allows %s', (_case, file, code) => {
    expect(boundaryErrors(file, `${code}\nexport const probe = Object;\n`)).toEqual([]);
  });
});
