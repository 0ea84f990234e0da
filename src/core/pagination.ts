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

/** A newest-first listing's cursor: the [createdAt, id] of the last row of the previous page. */
export const newestCursor = z.tuple([z.number(), z.string()]);

/**
 * The position a newest-first cursor (from newestFirstPage) stands for, for a store to list the
 * rows older than it (db/sqlite/pagination-sql.ts builds the SQL condition); undefined: first page.
 */
export function decodeNewestCursor(cursor: string | undefined): [number, string] | undefined {
  return cursor ? decodeCursor(cursor, newestCursor) : undefined;
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
