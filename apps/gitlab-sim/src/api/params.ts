import type { FastifyRequest } from 'fastify';

import { GitlabError } from '../domain/gitlab-error';

export type Params = Record<string, unknown>;

/** Grape merges query-string and body parameters; the body wins. */
export function requestParams(request: FastifyRequest): Params {
  const query = (request.query ?? {}) as Params;
  const body = request.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) return { ...query, ...(body as Params) };
  return query;
}

const first = (value: unknown): unknown => (Array.isArray(value) ? value[value.length - 1] : value);

export function has(params: Params, name: string): boolean {
  return params[name] !== undefined;
}

export function optionalString(params: Params, name: string): string | undefined {
  const value = first(params[name]);
  if (value === undefined) return undefined;
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw GitlabError.invalid(name);
}

/** `requires :name, type: String` (blank strings count as missing for `allow_blank: false`). */
export function requiredString(params: Params, name: string, allowBlank = true): string {
  const value = optionalString(params, name);
  if (value === undefined) throw GitlabError.missing(name);
  if (!allowBlank && value.trim() === '') throw new GitlabError(400, { error: `${name} is empty` });
  return value;
}

export function optionalInt(params: Params, name: string): number | undefined {
  const value = first(params[name]);
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  throw GitlabError.invalid(name);
}

export function optionalBool(params: Params, name: string): boolean | undefined {
  const value = first(params[name]);
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const text = String(value).toLowerCase();
  if (['true', '1', 't', 'yes', 'y'].includes(text)) return true;
  if (['false', '0', 'f', 'no', 'n'].includes(text)) return false;
  throw GitlabError.invalid(name);
}

export function optionalEnum<T extends string>(
  params: Params,
  name: string,
  values: readonly T[],
): T | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) throw GitlabError.notInValues(name);
  return value as T;
}

/** Comma-separated string or array (`labels`, `add_labels`): Grape's `coerce_with` for label lists. */
export function optionalList(params: Params, name: string): string[] | undefined {
  const value = params[name] ?? params[`${name}[]`];
  if (value === undefined) return undefined;
  if (value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  return items
    .flatMap((item) => (typeof item === 'string' || typeof item === 'number' ? String(item).split(',') : []))
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function optionalIntList(params: Params, name: string): number[] | undefined {
  const list = optionalList(params, name);
  if (list === undefined) return undefined;
  return list.map((item) => {
    if (!/^\d+$/.test(item)) throw GitlabError.invalid(name);
    return Number(item);
  });
}

/** ISO 8601 date-times (`updated_after`): epoch ms. */
export function optionalTime(params: Params, name: string): number | undefined {
  const value = optionalString(params, name);
  if (value === undefined || value === '') return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw GitlabError.invalid(name);
  return time;
}

/** `YYYY-MM-DD` (`due_date`); empty clears it. */
export function optionalDate(params: Params, name: string): string | null | undefined {
  const value = optionalString(params, name);
  if (value === undefined) return undefined;
  if (value === '') return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw GitlabError.invalid(name);
  return value;
}

/** Path parameters declared `type: Integer`. */
export function pathInt(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw GitlabError.invalid(name);
  return Number(value);
}
