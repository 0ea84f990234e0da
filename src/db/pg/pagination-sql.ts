import { and, eq, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/**
 * The condition for "older than the cursor" in a newest-first listing (created_at desc, id desc);
 * `cursor` is the [createdAt, id] of the last row of the previous page (core's decodeNewestCursor).
 * The id compares byte by byte (COLLATE "C"), as SQLite compares text: under the database's locale
 * `batch_…` ids could sort in another order, and a page would skip or repeat rows. Order the
 * listing with `newestFirst` so the ORDER BY and the cursor agree.
 */
export function olderThan(
  cursor: readonly [number, string] | undefined,
  createdAt: PgColumn,
  id: PgColumn,
): SQL | undefined {
  if (!cursor) return undefined;
  const [at, last] = cursor;
  return or(sql`${createdAt} < ${at}`, and(eq(createdAt, at), sql`${id} COLLATE "C" < ${last}`));
}

/** The ORDER BY terms of a newest-first listing that `olderThan` pages through (created_at desc, id desc, bytewise). */
export function newestFirst(createdAt: PgColumn, id: PgColumn): SQL[] {
  return [sql`${createdAt} DESC`, sql`${id} COLLATE "C" DESC`];
}

/**
 * The same condition for raw SQL: `createdAt` and `id` are column expressions (e.g. `b.created_at`),
 * `first` the number of the first placeholder it may use. The text is empty without a cursor
 * (append it with `AND` only when it is not); ORDER BY `<createdAt> DESC, <id> COLLATE "C" DESC`.
 */
export function olderThanSql(
  cursor: readonly [number, string] | undefined,
  createdAt: string,
  id: string,
  first: number,
): { text: string; values: unknown[] } {
  if (!cursor) return { text: '', values: [] };
  const [at, last] = cursor;
  return {
    text: `(${createdAt} < $${first} OR (${createdAt} = $${first} AND ${id} COLLATE "C" < $${first + 1}))`,
    values: [at, last],
  };
}
