import type { PoolClient, QueryResult } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * The one thing repositories need from a connection: rows of a SELECT or of an INSERT … RETURNING.
 * `name` makes it a prepared statement where the connection supports it (parsed and planned once
 * per database connection instead of once per call).
 */
export interface Sql {
  rows<T>(text: string, values: readonly unknown[], name?: string): Promise<T[]>;
}

/** A TypeORM transaction as {@link Sql} (statements are not prepared). */
export const sqlOf = (tx: EntityManager): Sql => ({
  rows: <T>(text: string, values: readonly unknown[]) => tx.query(text, [...values]) as Promise<T[]>,
});

/** A pg client as {@link Sql}, with prepared statements. */
export const sqlOfClient = (client: PoolClient): Sql => ({
  rows: async <T>(text: string, values: readonly unknown[], name?: string) =>
    (
      await client.query<T & object>(
        name ? { name, text, values: [...values] } : { text, values: [...values] },
      )
    ).rows,
});

/**
 * Runs `work` in a transaction on a connection of the app's pool, opened with `opening`: SQL
 * without parameters sent together with BEGIN in one round trip (the hot path of issue events
 * counts round trips). Resolves to `work`'s result and the results of `opening`'s statements.
 */
export async function inPooledTransaction<T>(
  dataSource: DataSource,
  opening: string,
  work: (sql: Sql, opened: QueryResult[]) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  let open = false;
  try {
    const results = (await client.query(`BEGIN; ${opening}`)) as unknown as QueryResult[];
    open = true;
    const result = await work(sqlOfClient(client), results.slice(1));
    await client.query('COMMIT');
    open = false;
    return result;
  } finally {
    if (open) await client.query('ROLLBACK').catch(() => undefined);
    await runner.release();
  }
}

/** The one row a `… RETURNING *` statement that always writes gave back. */
export function onlyRow<T>(rows: readonly T[], statement: string): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`${statement} returned no row`);
  return row;
}
