import type { ContactStatus, SequenceStopReason } from '../../core/vocabulary.js';
import type { PgExec } from './client.js';

/**
 * Stops of a campaign's sequence (PRODUCT.md §8), inside the caller's transaction: every store
 * that makes a person leave a sequence (a reply, a bounce, a complaint, an unsubscribe, a status
 * change, a suppression, a cancel, "Stop sequence") calls stopSequences with its transaction's
 * client, so the people list says `stopped` in the same commit. Only waiting people change (no
 * stop reason yet, and a follow-up due or a step in flight); a stopped or finished person keeps
 * their state, so the first event is the reason and a second call is a no-op. One UPDATE over an
 * index (sequence_people_contact, or the primary key's campaign prefix). Two transactions
 * stopping the same person: the second waits for the first's row lock, then finds the stop
 * reason set and leaves the row alone (READ COMMITTED re-checks the WHERE on the new row).
 */

/** Whose sequences stop. */
export type StopTarget =
  /** These contacts, in every campaign. */
  | { contactIds: readonly number[] }
  /** One person in one campaign ("Stop sequence"). */
  | { campaignId: string; contactId: number }
  /** Every contact with this address (its SHA-256), in every campaign. */
  | { emailHash: Buffer }
  /** Contacts whose address matches one of two LIKE patterns (a domain rule), in every campaign. */
  | { emailLike: readonly [string, string] }
  /** Everyone waiting in this campaign (the campaign cancelled). */
  | { campaign: string };

// Waiting: a follow-up due, or the last step's row still claimed or retrying (in flight: that step
// goes out, and the engine's sent mark leaves a stopped person stopped, so nothing follows it).
const stop = `UPDATE sequence_people SET stop_reason = $1, stopped_at = $2, next_due_at = NULL, updated_at = $2
  WHERE stop_reason IS NULL
    AND (next_due_at IS NOT NULL OR EXISTS (SELECT 1 FROM sends x
      WHERE x.id = sequence_people.last_send_id AND x.status IN ('claimed', 'retry')))
    AND`;

// SQLite's LIKE has no escape character and ignores ASCII case: ILIKE with ESCAPE '' means the same
// (the addresses are stored lower-cased, so the case rule only matters for an upper-case pattern).
const byTarget = (target: StopTarget): { where: string; values: unknown[] } => {
  if ('contactIds' in target)
    return { where: 'contact_id = ANY($3::bigint[])', values: [[...target.contactIds]] };
  if ('contactId' in target)
    return { where: 'campaign_id = $3 AND contact_id = $4', values: [target.campaignId, target.contactId] };
  if ('emailHash' in target)
    return {
      where: 'contact_id IN (SELECT id FROM contacts WHERE email_hash = $3)',
      values: [target.emailHash],
    };
  if ('emailLike' in target)
    return {
      where: `contact_id IN (SELECT id FROM contacts WHERE email ILIKE $3 ESCAPE '' OR email ILIKE $4 ESCAPE '')`,
      values: [target.emailLike[0], target.emailLike[1]],
    };
  return { where: 'campaign_id = $3', values: [target.campaign] };
};

/** Waiting people of `target` become stopped with `reason` at `at`; how many. */
export async function stopSequences(
  exec: PgExec,
  target: StopTarget,
  reason: SequenceStopReason,
  at: number,
): Promise<number> {
  if ('contactIds' in target && target.contactIds.length === 0) return 0;
  const { where, values } = byTarget(target);
  const result = await exec.query(`${stop} ${where}`, [reason, at, ...values]);
  return result.rowCount ?? 0;
}

/**
 * The stop reason of a contact status that takes the person out of every audience (null for
 * `active`): the same word for replied/bounced/complained/unsubscribed, `left_audience` otherwise.
 */
export function stopReasonOfStatus(status: ContactStatus): SequenceStopReason | null {
  switch (status) {
    case 'active':
      return null;
    case 'replied':
    case 'bounced':
    case 'complained':
    case 'unsubscribed':
      return status;
    default:
      return 'left_audience';
  }
}
