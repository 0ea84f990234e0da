import { eq } from 'drizzle-orm';
import type { SuppressionReason } from '../../core/vocabulary.js';
import type { Db } from '../client.js';
import { suppressions } from '../schema.js';

/**
 * The suppression list's rows, for every store that suppresses an address inside its own
 * transaction (a bounce, an unsubscribe, a status change, a deletion, a forget): the one place
 * that writes `suppressions` besides the SuppressionStore itself.
 */

/** Puts a hashed address on the list unless it already is (an entry keeps its first reason); true when added. */
export function suppressAddress(
  db: Pick<Db, 'insert'>,
  row: { emailHash: Buffer; reason: SuppressionReason; actor: string; at: number },
): boolean {
  return (
    db
      .insert(suppressions)
      .values({ emailHash: row.emailHash, reason: row.reason, actor: row.actor, createdAt: row.at })
      .onConflictDoNothing()
      .run().changes > 0
  );
}

/** The address's entry, or null when it is not suppressed. */
export function findSuppression(
  db: Pick<Db, 'select'>,
  hash: Buffer,
): { reason: SuppressionReason; actor: string; createdAt: number } | null {
  return (
    db
      .select({ reason: suppressions.reason, actor: suppressions.actor, createdAt: suppressions.createdAt })
      .from(suppressions)
      .where(eq(suppressions.emailHash, hash))
      .get() ?? null
  );
}
