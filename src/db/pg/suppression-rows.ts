import type { SuppressionReason } from '../../core/vocabulary.js';
import { type PgExec, row } from './client.js';

/**
 * The suppression list's rows, for every store that suppresses an address inside its own
 * transaction (a bounce, an unsubscribe, a status change, a deletion, a forget): the one place
 * that writes `suppressions` besides the SuppressionStore itself.
 */

/**
 * Puts a hashed address on the list unless it already is (an entry keeps its first reason); true
 * when added. Safe when two transactions add the same address at once: the second waits for the
 * first and then adds nothing.
 */
export async function suppressAddress(
  exec: PgExec,
  entry: { emailHash: Buffer; reason: SuppressionReason; actor: string; at: number },
): Promise<boolean> {
  const result = await exec.query(
    `INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (email_hash) DO NOTHING`,
    [entry.emailHash, entry.reason, entry.actor, entry.at],
  );
  return (result.rowCount ?? 0) > 0;
}

/** The address's entry, or null when it is not suppressed. */
export async function findSuppression(
  exec: PgExec,
  hash: Buffer,
): Promise<{ reason: SuppressionReason; actor: string; createdAt: number } | null> {
  return (
    (await row<{ reason: SuppressionReason; actor: string; createdAt: number }>(
      exec,
      `SELECT reason, actor, created_at AS "createdAt" FROM suppressions WHERE email_hash = $1`,
      [hash],
    )) ?? null
  );
}
