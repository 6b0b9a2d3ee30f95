/** The one row a `… RETURNING *` statement that always writes gave back. */
export function onlyRow<T>(rows: readonly T[], statement: string): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`${statement} returned no row`);
  return row;
}
