import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { z } from 'zod';
import { DomainError } from '../errors.js';

/** Opaque cursors: base64url JSON, validated when read back. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new DomainError(
      'invalid_input',
      'The cursor is not valid: use the nextCursor value of the previous page.',
    );
  }
}

export const pageLimit = (limit: number | undefined, max = 500, fallback = 50) =>
  Math.min(Math.max(Math.trunc(limit ?? fallback), 1), max);

const newestCursor = z.tuple([z.number(), z.string()]);

/** The condition for "older than the cursor" in a newest-first listing (created_at desc, id desc). */
export function olderThan(
  cursor: string | undefined,
  createdAt: SQLiteColumn,
  id: SQLiteColumn,
): SQL | undefined {
  if (!cursor) return undefined;
  const [at, last] = decodeCursor(cursor, newestCursor);
  return or(lt(createdAt, at), and(eq(createdAt, at), lt(id, last)));
}

/** Cuts a newest-first query fetched with limit + 1 rows into a page and the cursor of the next one. */
export function newestFirstPage<T extends { createdAt: number; id: string }>(
  rows: T[],
  limit: number,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null };
}
