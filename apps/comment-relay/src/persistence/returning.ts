import type { EntityManager } from 'typeorm';

/**
 * Rows of an `UPDATE … RETURNING` (TypeORM's postgres driver answers `[rows, affected]` for an
 * UPDATE or DELETE, and the rows alone for a SELECT or INSERT).
 */
export async function updatedRows<T>(tx: EntityManager, text: string, values: unknown[]): Promise<T[]> {
  const result: unknown = await tx.query(text, values);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
