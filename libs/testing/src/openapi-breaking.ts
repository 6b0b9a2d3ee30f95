/**
 * Breaking changes between two OpenAPI 3 documents of one service (docs/openapi/<service>.json, the
 * committed one, against a regenerated one): what a client written against `before` would notice.
 * Flagged: a path removed; an operation removed; a request field (body property, or query/header/
 * path parameter) that becomes required; a response field of a 2xx answer removed; an enum value
 * removed (in a request or a response). Additions that a client may ignore pass. The checker
 * follows `$ref`s into `components.schemas`, `allOf`, arrays and nested objects.
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  enum?: unknown[];
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];

/** Every breaking change from `before` to `after`, one line each; empty when there is none. */
export function openApiBreakingChanges(before: OpenApiDocument, after: OpenApiDocument): string[] {
  const problems: string[] = [];
  for (const [route, oldItem] of Object.entries(before.paths ?? {})) {
    const newItem = after.paths?.[route];
    if (!newItem) {
      problems.push(`${route}: path removed`);
      continue;
    }
    for (const method of METHODS) {
      const oldOp = oldItem[method] as Operation | undefined;
      if (!oldOp) continue;
      const newOp = newItem[method] as Operation | undefined;
      const where = `${method.toUpperCase()} ${route}`;
      if (!newOp) {
        problems.push(`${where}: operation removed`);
        continue;
      }
      problems.push(...compareOperation(where, oldOp, newOp, before, after));
    }
  }
  return problems;
}

function compareOperation(
  where: string,
  oldOp: Operation,
  newOp: Operation,
  before: OpenApiDocument,
  after: OpenApiDocument,
): string[] {
  const problems: string[] = [];
  const oldParams = new Map((oldOp.parameters ?? []).map((p) => [`${p.in}:${p.name}`, p]));
  for (const param of newOp.parameters ?? []) {
    const old = oldParams.get(`${param.in}:${param.name}`);
    const label = `${param.in} parameter ${param.name}`;
    if (param.required && !old?.required && param.in !== 'path') {
      problems.push(`${where}: ${label} is now required`);
    }
    if (old?.schema && param.schema) {
      problems.push(...compareEnums(`${where}: ${label}`, old.schema, param.schema, before, after));
    }
  }
  const oldBody = jsonSchemaOf(oldOp.requestBody?.content);
  const newBody = jsonSchemaOf(newOp.requestBody?.content);
  if (newOp.requestBody?.required && !oldOp.requestBody?.required) {
    problems.push(`${where}: request body is now required`);
  }
  if (newBody) {
    problems.push(...compareRequest(`${where}: request body`, oldBody, newBody, before, after, 'body'));
  }
  for (const [status, oldResponse] of Object.entries(oldOp.responses ?? {})) {
    if (!/^2/.test(status)) continue;
    const newResponse = newOp.responses?.[status];
    if (!newResponse) {
      problems.push(`${where}: response ${status} removed`);
      continue;
    }
    const oldSchema = jsonSchemaOf(oldResponse.content);
    const newSchema = jsonSchemaOf(newResponse.content);
    if (oldSchema) {
      problems.push(
        ...compareResponse(`${where}: response ${status}`, oldSchema, newSchema, before, after, 'body'),
      );
    }
  }
  return problems;
}

const jsonSchemaOf = (content?: Record<string, { schema?: Schema }>) =>
  JSON_TYPES.map((type) => content?.[type]?.schema).find(Boolean);

/** The schema with `$ref`s and `allOf`s resolved one level (properties and required merged). */
function resolve(schema: Schema | undefined, document: OpenApiDocument, seen = new Set<string>()): Schema {
  if (!schema) return {};
  if (schema.$ref) {
    if (seen.has(schema.$ref)) return {};
    seen.add(schema.$ref);
    const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
    return resolve(document.components?.schemas?.[name] as Schema | undefined, document, seen);
  }
  if (!schema.allOf) return schema;
  const parts = schema.allOf.map((part) => resolve(part, document, new Set(seen)));
  return {
    ...schema,
    allOf: undefined,
    type: schema.type ?? parts.find((p) => p.type)?.type,
    properties: Object.assign({}, ...parts.map((p) => p.properties), schema.properties) as Record<
      string,
      Schema
    >,
    required: [...new Set([...parts.flatMap((p) => p.required ?? []), ...(schema.required ?? [])])],
    enum: schema.enum ?? parts.find((p) => p.enum)?.enum,
    items: schema.items ?? parts.find((p) => p.items)?.items,
  };
}

function compareEnums(
  where: string,
  oldRaw: Schema,
  newRaw: Schema,
  before: OpenApiDocument,
  after: OpenApiDocument,
): string[] {
  const oldSchema = resolve(oldRaw, before);
  const newSchema = resolve(newRaw, after);
  if (!oldSchema.enum)
    return oldSchema.items
      ? compareEnums(`${where}[]`, oldSchema.items, newSchema.items ?? {}, before, after)
      : [];
  if (!newSchema.enum) return []; // any value is accepted now
  return oldSchema.enum
    .filter((value) => !newSchema.enum?.some((v) => JSON.stringify(v) === JSON.stringify(value)))
    .map((value) => `${where}: enum value ${JSON.stringify(value)} removed`);
}

/** A request schema: no newly required field, no enum value removed, recursively. */
function compareRequest(
  where: string,
  oldRaw: Schema | undefined,
  newRaw: Schema,
  before: OpenApiDocument,
  after: OpenApiDocument,
  path: string,
  depth = 0,
): string[] {
  if (depth > 16) return [];
  const oldSchema = oldRaw ? resolve(oldRaw, before) : undefined;
  const newSchema = resolve(newRaw, after);
  const problems: string[] = [];
  if (oldSchema) problems.push(...compareEnums(`${where} ${path}`, oldSchema, newSchema, before, after));
  const oldRequired = new Set(oldSchema?.required ?? []);
  for (const name of newSchema.required ?? []) {
    if (!oldRequired.has(name)) problems.push(`${where}: field ${path}.${name} is now required`);
  }
  for (const [name, property] of Object.entries(newSchema.properties ?? {})) {
    const oldProperty = oldSchema?.properties?.[name];
    if (!oldProperty) continue; // new: optional is fine, required is reported above
    problems.push(
      ...compareRequest(where, oldProperty, property, before, after, `${path}.${name}`, depth + 1),
    );
  }
  const newItems = newSchema.items;
  if (newItems) {
    problems.push(
      ...compareRequest(where, oldSchema?.items, newItems, before, after, `${path}[]`, depth + 1),
    );
  }
  return problems;
}

/** A response schema: no field removed, no enum value removed, recursively. */
function compareResponse(
  where: string,
  oldRaw: Schema,
  newRaw: Schema | undefined,
  before: OpenApiDocument,
  after: OpenApiDocument,
  path: string,
  depth = 0,
): string[] {
  if (depth > 16) return [];
  const oldSchema = resolve(oldRaw, before);
  const newSchema = resolve(newRaw, after);
  const problems = newRaw ? compareEnums(`${where} ${path}`, oldSchema, newSchema, before, after) : [];
  for (const [name, property] of Object.entries(oldSchema.properties ?? {})) {
    const newProperty = newSchema.properties?.[name];
    if (!newProperty) {
      problems.push(`${where}: field ${path}.${name} removed`);
      continue;
    }
    problems.push(
      ...compareResponse(where, property, newProperty, before, after, `${path}.${name}`, depth + 1),
    );
  }
  if (oldSchema.items) {
    problems.push(
      ...compareResponse(where, oldSchema.items, newSchema.items, before, after, `${path}[]`, depth + 1),
    );
  }
  return problems;
}
