import type { ChunkWritten, ContactRow, ImportChunk } from '../../core/imports/contact-import-store.js';
import { countHeld, hashBytes } from '../../core/imports/contact-import-store.js';

/**
 * One row of a chunk's lookup: a suppressed hash (`s`, in h) or an address (a) and the batch
 * holding it (`h`, in b).
 */
export type Found = { k: 's' | 'h'; a: string | null; h: Buffer | null; b: string | null };

/**
 * Sorts the chunk's rows by what was looked up and the domain rules read under the lock, into
 * `out`'s counts; returns the rows to insert (indexes into all). `addedBefore`: the addresses the
 * import's last chunk added, held by this batch whether or not the lookup saw them.
 */
export function classify(
  { batchId, domainRules, holders }: ImportChunk,
  all: ContactRow[],
  hashes: Buffer,
  found: Found[],
  patterns: string[],
  addedBefore: Set<string>,
  out: ChunkWritten,
): number[] {
  const suppressedHashes = new Set<string>();
  const holderOf = new Map<string, string>();
  for (const f of found) {
    if (f.k === 's') suppressedHashes.add(f.h!.toString('latin1'));
    // This batch, another batch's id when asked for, else '' (another batch, not named).
    else holderOf.set(f.a!, f.b === batchId ? batchId : holders ? f.b! : '');
  }
  for (const email of addedBefore) holderOf.set(email, batchId);
  const inSuppressedDomain = patterns.length > 0 ? domainRules(patterns) : null;
  const fresh: number[] = [];
  for (let i = 0; i < all.length; i++) {
    const email = all[i]!.email;
    const byHash =
      suppressedHashes.size > 0 &&
      suppressedHashes.has(hashes.toString('latin1', i * hashBytes, (i + 1) * hashBytes));
    if (byHash || inSuppressedDomain?.(email)) {
      out.suppressed++;
      continue;
    }
    if (countHeld(holderOf, email, batchId, out)) fresh.push(i);
  }
  return fresh;
}

/** The INSERT met an address another transaction added after the chunk's lookup. */
export const raced = (e: unknown) =>
  (e as { code?: unknown }).code === '23505' &&
  (e as { constraint?: unknown }).constraint === 'contacts_email';
