import type { z } from 'zod';
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
