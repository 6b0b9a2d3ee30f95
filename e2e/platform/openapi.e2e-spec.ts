import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { openApiBreakingChanges, WORKSPACE_ROOT, type OpenApiDocument } from '@testkase/testing';

const SERVICES = ['connection-service', 'requirement-sync', 'defect-sync', 'comment-relay'] as const;
const committedFile = (service: string) => path.join(WORKSPACE_ROOT, 'docs', 'openapi', `${service}.json`);

type Operation = {
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string }>;
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
};
const operationsOf = (document: OpenApiDocument) =>
  Object.entries(document.paths).flatMap(([route, item]) =>
    Object.entries(item as Record<string, Operation>).map(([method, operation]) => ({
      where: `${method.toUpperCase()} ${route}`,
      route,
      operation,
    })),
  );

/**
 * docs/openapi/<service>.json is the HTTP contract of each service: regenerated from the built apps
 * (tools/openapi-export.js; `npm run build` first), it must equal the committed file, and differ
 * from it by no breaking change (libs/testing/src/openapi-breaking.ts).
 */
describe('the OpenAPI documents (docs/openapi)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'openapi-'));
  const regenerated: Record<string, string> = {};

  beforeAll(() => {
    execFileSync(process.execPath, [path.join(WORKSPACE_ROOT, 'tools', 'openapi-export.js'), '--out', out], {
      cwd: WORKSPACE_ROOT,
      stdio: 'pipe',
      timeout: 60_000,
    });
    for (const service of SERVICES) {
      regenerated[service] = readFileSync(path.join(out, `${service}.json`), 'utf8');
    }
  }, 90_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(SERVICES)('%s: has no breaking change against the committed document', (service) => {
    const committed = JSON.parse(readFileSync(committedFile(service), 'utf8')) as OpenApiDocument;
    const now = JSON.parse(regenerated[service] ?? '{}') as OpenApiDocument;
    expect(openApiBreakingChanges(committed, now)).toEqual([]);
  });

  it.each(SERVICES)('%s: equals the committed document (else run `npm run openapi:export`)', (service) => {
    expect(regenerated[service]).toBe(readFileSync(committedFile(service), 'utf8'));
  });

  it.each(SERVICES)(
    '%s: every 4xx/5xx answer is the ErrorBody; every path parameter is declared and described',
    (service) => {
      const document = JSON.parse(regenerated[service] ?? '{}') as OpenApiDocument & {
        components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
      };
      expect(document.components.schemas['ErrorBody']?.properties).toHaveProperty('error');
      const operations = operationsOf(document);
      expect(operations.length).toBeGreaterThan(0);
      for (const { where, route, operation } of operations) {
        const errors = Object.entries(operation.responses).filter(([status]) => /^[45]/.test(status));
        expect(errors.map(([status]) => status)).toContain('500');
        for (const [status, response] of errors) {
          expect([where, status, response.content?.['application/json']?.schema]).toEqual([
            where,
            status,
            { $ref: '#/components/schemas/ErrorBody' },
          ]);
        }
        const names = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        const declared = (operation.parameters ?? []).filter((p) => p.in === 'path');
        expect([where, declared.map((p) => p.name)]).toEqual([where, names]);
        for (const parameter of declared) {
          expect([where, parameter.name, parameter.required, Boolean(parameter.description)]).toEqual([
            where,
            parameter.name,
            true,
            true,
          ]);
        }
      }
    },
  );
});
