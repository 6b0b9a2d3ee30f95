import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

import { ERROR_CODES } from '@testkase/util';

export interface OpenApiInfo {
  service: string;
  description: string;
  version?: string;
}

/** The name of the error body's schema in `components.schemas`. */
export const ERROR_BODY_SCHEMA = 'ErrorBody';

/**
 * The error body every 4xx and 5xx answer carries (HttpErrorFilter; docs/ARCHITECTURE.md, "HTTP and
 * gRPC"): `{"error":{"code","message","details"?,"errorId"?}}`.
 */
export const ERROR_BODY_JSON_SCHEMA = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: [...ERROR_CODES], description: 'Stable error code' },
        message: { type: 'string', description: 'For people; may change' },
        details: {
          type: 'object',
          additionalProperties: true,
          description: 'Depends on the code, e.g. `fields` of VALIDATION_FAILED and SYNCED_READ_ONLY',
        },
        errorId: { type: 'string', description: 'INTERNAL only: the id that is also logged' },
      },
    },
  },
} as const;

type Operation = {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown; $ref?: string }>;
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
};
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const isErrorStatus = (status: string) => /^[45]/.test(status);

/** The OpenAPI document of a created (not necessarily listening) app, finalised by finalizeOpenApi. */
export function buildOpenApiDocument(app: INestApplication, info: OpenApiInfo): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(info.service)
      .setDescription(info.description)
      .setVersion(info.version ?? '1')
      .addBearerAuth()
      .build(),
  );
  return finalizeOpenApi(document);
}

/**
 * What every route of our HTTP APIs has in common, made explicit in the document:
 * - the error body as the `ErrorBody` component, the schema of every 4xx and 5xx answer;
 * - 500 `INTERNAL` on every operation, and 401 `UNAUTHENTICATED` on those behind the core token;
 * - every `{parameter}` of a path declared as a required path parameter (a string unless `@ApiParam`
 *   says more), listed first in the order of the path.
 */
export function finalizeOpenApi(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    [ERROR_BODY_SCHEMA]: ERROR_BODY_JSON_SCHEMA as never,
  };
  const errorContent = {
    'application/json': { schema: { $ref: `#/components/schemas/${ERROR_BODY_SCHEMA}` } },
  };
  for (const [route, item] of Object.entries(document.paths)) {
    const names = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
    for (const method of METHODS) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      if (!operation) continue;
      operation.responses['500'] ??= { description: 'INTERNAL: an unexpected error (errorId is logged)' };
      if (operation.security?.length && !operation.responses['401']) {
        operation.responses['401'] = { description: 'UNAUTHENTICATED: missing or wrong core API token' };
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        if (isErrorStatus(status)) response.content = errorContent;
      }
      operation.parameters ??= [];
      for (const name of names) {
        const declared = operation.parameters.find((p) => p.in === 'path' && p.name === name);
        if (declared) declared.required = true;
        else operation.parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
      }
      // Path parameters first, in the order of the path; then the others as they were.
      const rank = (p: { name: string; in: string }) =>
        p.in === 'path' ? names.indexOf(p.name) : names.length;
      operation.parameters = operation.parameters
        .map((parameter, index) => ({ parameter, index }))
        .sort((a, b) => rank(a.parameter) - rank(b.parameter) || a.index - b.index)
        .map(({ parameter }) => parameter);
    }
  }
  return document;
}

const ID_RULE = '1–128 characters of A–Z a–z 0–9 _ . : -';

/** The path parameters of our HTTP APIs, for `@ApiParam` (docs/ARCHITECTURE.md, "HTTP API for TestKase core"). */
export const API_PARAMS = {
  projectId: { name: 'projectId', description: `TestKase project id: ${ID_RULE}`, example: 'demo' },
  requirementId: {
    name: 'requirementId',
    description: 'Requirement id (a UUID, `id` of the requirement)',
    format: 'uuid',
  },
  defectId: { name: 'defectId', description: `TestKase defect id: ${ID_RULE}`, example: 'DEF-42' },
  commentId: { name: 'commentId', description: `TestKase comment id: ${ID_RULE}`, example: 'C-1' },
  testCaseId: { name: 'testCaseId', description: `TestKase test case id: ${ID_RULE}`, example: 'TC-7' },
  connectionId: {
    name: 'connectionId',
    description: 'Connection id (a UUID, `connectionId` of the connection)',
    format: 'uuid',
  },
  sequence: {
    name: 'sequence',
    description: 'Stream sequence of the dead letter in DEAD_LETTERS (`sequence` in the listing)',
    example: 42,
  },
} as const;
