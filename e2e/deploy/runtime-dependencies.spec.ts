import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';

import ts from 'typescript';

import { WORKSPACE_ROOT } from '@testkase/testing';

/**
 * The image keeps only package.json `dependencies` (`npm prune --omit=dev`, deploy/Dockerfile), so
 * every package the compiled apps load must be there: gitlab-sim's image crashed at start when
 * @fastify/swagger was a dev dependency.
 */
const manifest = JSON.parse(readFileSync(path.join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Dependencies no source imports, each loaded at run time by the file of a dependency named here. */
const LOADED_BY_A_DEPENDENCY: Record<string, string> = {
  // The gRPC transport (libs/platform/src/http/bootstrap.ts) loads it to read the proto files.
  '@grpc/proto-loader': '@nestjs/microservices/server/server-grpc.js',
  // SwaggerModule.setup serves the UI's assets through useStaticAssets (API_DOCS).
  '@fastify/static': '@nestjs/platform-fastify/adapters/fastify-adapter.js',
};

/**
 * Declared for work in flight (commit d016172, issues 12 and 14: grpc.health.v1 and reflection
 * services, gRPC spans, resource attributes); allowed unused until that work lands.
 */
const DECLARED_FOR_WORK_IN_FLIGHT = new Set([
  '@grpc/reflection',
  'grpc-health-check',
  '@opentelemetry/instrumentation-grpc',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/semantic-conventions',
]);

/** The package a bare specifier loads (`@scope/name/sub` → `@scope/name`), or undefined. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || isBuiltin(specifier)) return undefined;
  if (specifier.startsWith('@testkase/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Module specifiers a file loads at run time (type-only imports are erased by tsc). */
function runtimeImports(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((element) => element.isTypeOnly)));
      if (!typeOnly) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      if (!node.isTypeOnly) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push(node.moduleReference.expression.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.ts$/;

/** Non-test TypeScript under a directory, without test/ folders. */
function sourcesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test' ? [] : sourcesUnder(full);
    return entry.name.endsWith('.ts') && !TEST_FILE.test(entry.name) ? [full] : [];
  });
}

/** apps/*\/src and libs/*\/src, except libs/testing (test-only). */
const sourceFiles = ['apps', 'libs'].flatMap((top) =>
  readdirSync(path.join(WORKSPACE_ROOT, top))
    .filter((name) => !(top === 'libs' && name === 'testing'))
    .flatMap((name) => sourcesUnder(path.join(WORKSPACE_ROOT, top, name, 'src'))),
);

const importsByFile = new Map(
  sourceFiles.map((file) => [
    path.relative(WORKSPACE_ROOT, file),
    runtimeImports(file, readFileSync(file, 'utf8')),
  ]),
);

/** Package → the files that load it. */
const loaders = new Map<string, string[]>();
for (const [file, specifiers] of importsByFile) {
  for (const name of new Set(specifiers.map(packageOf))) {
    if (name) loaders.set(name, [...(loaders.get(name) ?? []), file]);
  }
}

describe('runtimeImports and packageOf', () => {
  it('find every form of run-time import and skip type-only ones', () => {
    const text = [
      "import a from 'pkg-a/sub/path';",
      "import { b } from '@scope/pkg-b/sub';",
      "import type { C } from 'pkg-c';",
      "import { type D } from 'pkg-d';",
      "import { type E, e } from 'pkg-e';",
      "export * from 'pkg-f';",
      "export type { G } from 'pkg-g';",
      "import h = require('pkg-h');",
      "const i = require('pkg-i');",
      "void import('pkg-j');",
      "import 'pkg-k';",
      "import { readFileSync } from 'node:fs';",
      "import os from 'os';",
      "import { x } from '@testkase/platform/otel';",
      "import { y } from './local';",
    ].join('\n');
    const names = runtimeImports('sample.ts', text).map(packageOf).filter(Boolean);
    expect(names).toEqual(['pkg-a', '@scope/pkg-b', 'pkg-e', 'pkg-f', 'pkg-h', 'pkg-i', 'pkg-j', 'pkg-k']);
  });
});

describe('run-time dependencies (package.json)', () => {
  it('walks the sources of every app and lib', () => {
    for (const app of readdirSync(path.join(WORKSPACE_ROOT, 'apps'))) {
      expect([...importsByFile.keys()]).toContain(`apps/${app}/src/main.ts`);
    }
    expect([...importsByFile.keys()].some((file) => TEST_FILE.test(file))).toBe(false);
    expect(loaders.get('@nestjs/core')?.length).toBeGreaterThan(0);
  });

  it('declares every package the apps and libs load in dependencies', () => {
    const missing = [...loaders]
      .filter(([name]) => !(name in manifest.dependencies))
      .map(([name, files]) => `${name} (${files.slice(0, 3).join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('keeps libs/testing out of every app and lib', () => {
    const offenders = [...importsByFile]
      .filter(([, specifiers]) =>
        specifiers.some(
          (specifier) => specifier.startsWith('@testkase/testing') || /(^|\/)libs\/testing\b/.test(specifier),
        ),
      )
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });

  it('declares no dependency that nothing loads', () => {
    const unused = Object.keys(manifest.dependencies).filter(
      (name) =>
        !loaders.has(name) && !(name in LOADED_BY_A_DEPENDENCY) && !DECLARED_FOR_WORK_IN_FLIGHT.has(name),
    );
    expect(unused).toEqual([]);
  });

  it.each(Object.entries(LOADED_BY_A_DEPENDENCY))(
    '%s is really loaded at run time by %s',
    (name, loaderFile) => {
      expect(manifest.dependencies).toHaveProperty([name]);
      const loader = readFileSync(path.join(WORKSPACE_ROOT, 'node_modules', loaderFile), 'utf8');
      expect(loader).toMatch(new RegExp(`require\\(['"]${name.replace('/', '\\/')}['"]\\)`));
      const [scope, pkg] = loaderFile.split('/');
      expect(manifest.dependencies).toHaveProperty([`${scope}/${pkg}`]);
    },
  );

  it('keeps test and build tools out of dependencies', () => {
    const tools = Object.keys(manifest.dependencies).filter((name) =>
      /^(@types\/|jest$|@swc\/|eslint|typescript$|prettier$|nx$|@nx\/)/.test(name),
    );
    expect(tools).toEqual([]);
    const both = Object.keys(manifest.dependencies).filter((name) => name in manifest.devDependencies);
    expect(both).toEqual([]);
  });

  it('pins @nestjs packages released together to one version', () => {
    const together = ['common', 'core', 'microservices', 'platform-fastify', 'testing', 'websockets']
      .map((name) => `@nestjs/${name}`)
      .map((name) => manifest.dependencies[name] ?? manifest.devDependencies[name])
      .filter(Boolean);
    expect(together.length).toBeGreaterThanOrEqual(4);
    expect(new Set(together).size).toBe(1);
  });
});
