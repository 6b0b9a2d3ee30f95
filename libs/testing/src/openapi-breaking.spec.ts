import { openApiBreakingChanges, type OpenApiDocument } from './openapi-breaking';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });

/** A small API in the shape @nestjs/swagger writes: DTOs as components, referenced by operations. */
// The fixtures are edited deep inside; typing each level would only repeat the literal.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
function api(): OpenApiDocument & { paths: Record<string, Record<string, Loose>>; components: Loose } {
  return {
    paths: {
      '/v1/projects/{projectId}/defects/{defectId}': {
        get: {
          parameters: [
            { name: 'projectId', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'defectId', in: 'path', required: true, schema: { type: 'string' } },
            {
              name: 'view',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: ['full', 'brief'] },
            },
          ],
          responses: {
            '200': json({ $ref: '#/components/schemas/Defect' }),
            '404': json({ $ref: '#/components/schemas/ErrorBody' }),
          },
        },
        patch: {
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/PatchDefect' }) },
          responses: { '200': json({ $ref: '#/components/schemas/Defect' }) },
        },
      },
      '/v1/projects/{projectId}/defects': {
        get: {
          responses: { '200': json({ type: 'array', items: { $ref: '#/components/schemas/Defect' } }) },
        },
      },
    },
    components: {
      schemas: {
        Defect: {
          type: 'object',
          required: ['defectId', 'status'],
          properties: {
            defectId: { type: 'string' },
            status: { type: 'string', enum: ['Open', 'In-Progress', 'Closed'] },
            issue: {
              type: 'object',
              properties: { iid: { type: 'integer' }, webUrl: { type: 'string' } },
            },
          },
        },
        PatchDefect: {
          type: 'object',
          properties: {
            title: { type: 'string' },
            status: { type: 'string', enum: ['Open', 'In-Progress', 'Closed'] },
            context: { type: 'object', properties: { cycle: { type: 'string' } } },
          },
        },
        ErrorBody: { type: 'object', properties: { error: { type: 'object' } } },
      },
    },
  };
}

describe('openApiBreakingChanges', () => {
  it('finds nothing between a document and itself', () => {
    expect(openApiBreakingChanges(api(), api())).toEqual([]);
  });

  it('lets additions pass: paths, operations, optional fields, response fields, enum values', () => {
    const after = api();
    after.paths['/v1/health'] = { get: { responses: { '200': json({ type: 'object' }) } } };
    after.paths['/v1/projects/{projectId}/defects/{defectId}']!['delete'] = { responses: {} };
    after.components.schemas.PatchDefect.properties.priority = { type: 'string' };
    after.components.schemas.Defect.properties.version = { type: 'integer' };
    after.components.schemas.Defect.properties.status.enum.push('Achieved');
    after.paths['/v1/projects/{projectId}/defects/{defectId}']!['get'].parameters.push({
      name: 'expand',
      in: 'query',
      required: false,
      schema: { type: 'string' },
    });
    expect(openApiBreakingChanges(api(), after)).toEqual([]);
  });

  it('flags a removed path and a removed operation', () => {
    const after = api();
    delete after.paths['/v1/projects/{projectId}/defects'];
    delete after.paths['/v1/projects/{projectId}/defects/{defectId}']!['patch'];
    expect(openApiBreakingChanges(api(), after)).toEqual([
      'PATCH /v1/projects/{projectId}/defects/{defectId}: operation removed',
      '/v1/projects/{projectId}/defects: path removed',
    ]);
  });

  it('flags request fields that become required, top level and nested, and new required parameters', () => {
    const after = api();
    after.components.schemas.PatchDefect.required = ['title', 'reason'];
    after.components.schemas.PatchDefect.properties.reason = { type: 'string' };
    after.components.schemas.PatchDefect.properties.context.required = ['cycle'];
    after.paths['/v1/projects/{projectId}/defects/{defectId}']!['get'].parameters[2].required = true;
    expect(openApiBreakingChanges(api(), after)).toEqual([
      'GET /v1/projects/{projectId}/defects/{defectId}: query parameter view is now required',
      'PATCH /v1/projects/{projectId}/defects/{defectId}: request body: field body.title is now required',
      'PATCH /v1/projects/{projectId}/defects/{defectId}: request body: field body.reason is now required',
      'PATCH /v1/projects/{projectId}/defects/{defectId}: request body: field body.context.cycle is now required',
    ]);
  });

  it('does not flag a required field inside a new optional object', () => {
    const after = api();
    after.components.schemas.PatchDefect.properties.labels = {
      type: 'object',
      required: ['add'],
      properties: { add: { type: 'array', items: { type: 'string' } } },
    };
    expect(openApiBreakingChanges(api(), after)).toEqual([]);
  });

  it('flags response fields removed, also nested, in arrays and behind $ref, and a removed 2xx answer', () => {
    const after = api();
    delete after.components.schemas.Defect.properties.issue.properties.webUrl;
    delete after.paths['/v1/projects/{projectId}/defects/{defectId}']!['patch'].responses['200'];
    after.paths['/v1/projects/{projectId}/defects/{defectId}']!['patch'].responses['204'] = {};
    expect(openApiBreakingChanges(api(), after)).toEqual([
      'GET /v1/projects/{projectId}/defects/{defectId}: response 200: field body.issue.webUrl removed',
      'PATCH /v1/projects/{projectId}/defects/{defectId}: response 200 removed',
      'GET /v1/projects/{projectId}/defects: response 200: field body[].issue.webUrl removed',
    ]);
  });

  it('flags enum values removed, in requests, parameters and responses', () => {
    const after = api();
    after.components.schemas.Defect.properties.status.enum = ['Open', 'Closed'];
    after.components.schemas.PatchDefect.properties.status = {
      allOf: [{ type: 'string', enum: ['Open', 'Closed'] }],
    };
    after.paths['/v1/projects/{projectId}/defects/{defectId}']!['get'].parameters[2].schema.enum = ['full'];
    expect(openApiBreakingChanges(api(), after)).toEqual([
      'GET /v1/projects/{projectId}/defects/{defectId}: query parameter view: enum value "brief" removed',
      'GET /v1/projects/{projectId}/defects/{defectId}: response 200 body.status: enum value "In-Progress" removed',
      'PATCH /v1/projects/{projectId}/defects/{defectId}: request body body.status: enum value "In-Progress" removed',
      'PATCH /v1/projects/{projectId}/defects/{defectId}: response 200 body.status: enum value "In-Progress" removed',
      'GET /v1/projects/{projectId}/defects: response 200 body[].status: enum value "In-Progress" removed',
    ]);
  });

  it('ignores error answers (their body is the shared ErrorBody)', () => {
    const after = api();
    delete after.paths['/v1/projects/{projectId}/defects/{defectId}']!['get'].responses['404'];
    expect(openApiBreakingChanges(api(), after)).toEqual([]);
  });
});
