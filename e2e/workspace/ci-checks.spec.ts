import { readFileSync } from 'node:fs';
import path from 'node:path';

import { WORKSPACE_ROOT } from '@testkase/testing';

const read = (file: string) => readFileSync(path.join(WORKSPACE_ROOT, file), 'utf8');

describe('what CI checks besides the tests', () => {
  const manifest = JSON.parse(read('package.json')) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };

  it('.ci/run runs every static check a reviewer would, then the suite', () => {
    const run = read('.ci/run');
    expect(run).toMatch(/npm run check\b/);
    expect(run).toMatch(/npm test\b/);
    const check = manifest.scripts['check'] ?? '';
    for (const script of ['lint', 'typecheck', 'format:check', 'proto:lint'])
      expect(check).toContain(`npm run ${script}`);
  });

  it('typechecks test files too (every tree with TypeScript in it)', () => {
    const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[] };
    for (const tree of ['apps', 'libs', 'bench', 'tools', 'e2e'])
      expect(tsconfig.include).toContain(`${tree}/**/*.ts`);
  });

  it('pins every dependency exactly, and renovate keeps the pins moving', () => {
    const ranged = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }).filter(
      ([, version]) => !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version),
    );
    expect(ranged).toEqual([]);
    const renovate = JSON.parse(read('renovate.json')) as {
      extends: string[];
      rangeStrategy: string;
      packageRules: Array<{ groupName?: string; matchPackageNames?: string[] }>;
    };
    expect(renovate.rangeStrategy).toBe('pin');
    expect(renovate.extends).toContain('config:recommended');
    // Packages released together move together, so that their versions stay aligned.
    const grouped = renovate.packageRules.flatMap((rule) => rule.matchPackageNames ?? []);
    expect(grouped).toEqual(expect.arrayContaining(['@nestjs/**', '@opentelemetry/**']));
  });
});
