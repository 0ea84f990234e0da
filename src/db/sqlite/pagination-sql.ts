import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';

/**
 * The condition for "older than the cursor" in a newest-first listing (created_at desc, id desc);
 * `cursor` is the [createdAt, id] of the last row of the previous page (core's decodeNewestCursor).
 */
export function olderThan(
  cursor: readonly [number, string] | undefined,
  createdAt: SQLiteColumn,
  id: SQLiteColumn,
): SQL | undefined {
  if (!cursor) return undefined;
  const [at, last] = cursor;
  return or(lt(createdAt, at), and(eq(createdAt, at), lt(id, last)));
}
