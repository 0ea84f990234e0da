import { reactivatableWhenSuppressed, type StatusChangeResult } from '../../core/contacts/contact-store.js';
import type { ContactStatus, SuppressionReason } from '../../core/vocabulary.js';
import { dropContactCountWith } from './batch-rows.js';
import { type PgExec, row } from './client.js';
import { contacts } from './schema.js';
import { stopReasonOfStatus, stopSequences } from './sequence-rows.js';
import { findSuppression, suppressAddress } from './suppression-rows.js';

/** The columns of ContactFields (core/contacts/contact-store.ts): what every read of a contact selects. */
export const contactFieldColumns = {
  id: contacts.id,
  email: contacts.email,
  name: contacts.name,
  company: contacts.company,
  position: contacts.position,
  source: contacts.source,
  status: contacts.status,
  batchId: contacts.batchId,
  interest: contacts.interest,
};

/** The same columns for raw SQL, read from the contacts row named `alias`, with ContactFields' names. */
export function contactFieldsSql(alias = 'c'): string {
  return `${alias}.id, ${alias}.email, ${alias}.name, ${alias}.company, ${alias}.position, ${alias}.source,
    ${alias}.status, ${alias}.batch_id AS "batchId", ${alias}.interest`;
}

/**
 * A contact's status and deletion with their history rows, run inside the caller's transaction:
 * the contact store's own writes and those of the stores that change a contact as part of their
 * work (a hard bounce, an unsubscribe, a forget) all go through these. Each first locks the
 * contact's row (FOR UPDATE): two changes of one contact from two app instances run one after
 * the other, the second seeing the first's status, as SQLite's single writer ensured.
 */

/** Statuses that put the address on the suppression list. */
const suppressingStatus: Partial<Record<ContactStatus, SuppressionReason>> = {
  bounced: 'bounced',
  unsubscribed: 'unsubscribed',
  complained: 'complained',
};

type Locked = { status: ContactStatus; hash: Buffer; batchId: string };

/** The contact's row, locked until the caller's transaction ends; undefined without one. */
function lockContact(exec: PgExec, id: number): Promise<Locked | undefined> {
  return row<Locked>(
    exec,
    'SELECT status, email_hash AS hash, batch_id AS "batchId" FROM contacts WHERE id = $1 FOR UPDATE',
    [id],
  );
}

/**
 * Changes a contact's status with a history row, suppresses the address for
 * bounced/unsubscribed/complained, and stops the contact's waiting sequences (any status but
 * active). Refuses (`suppressed`, nothing written) to make a suppressed address active, except
 * from `replied`/`complained` (reactivatableWhenSuppressed): a person's decision about the
 * contact, which leaves the suppression in place.
 */
export async function changeContactStatus(
  exec: PgExec,
  id: number,
  status: ContactStatus,
  actor: string,
  reason: string | null,
  now: number,
): Promise<StatusChangeResult> {
  const found = await lockContact(exec, id);
  if (!found) return { kind: 'missing' };
  if (found.status === status) return { kind: 'unchanged', from: found.status };
  if (status === 'active' && !reactivatableWhenSuppressed.includes(found.status)) {
    const suppressed = await findSuppression(exec, found.hash);
    if (suppressed) return { kind: 'suppressed', reason: suppressed.reason };
  }
  await exec.query('UPDATE contacts SET status = $1, updated_at = $2 WHERE id = $3', [status, now, id]);
  await exec.query(
    `INSERT INTO contact_history (contact_id, from_status, to_status, actor, reason, at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, found.status, status, actor, reason, now],
  );
  const suppress = suppressingStatus[status];
  if (suppress) await suppressAddress(exec, { emailHash: found.hash, reason: suppress, actor, at: now });
  // Out of every audience: the person's waiting sequences stop in this commit.
  const stop = stopReasonOfStatus(status);
  if (stop) await stopSequences(exec, { contactIds: [id] }, stop, now);
  return { kind: 'changed', from: found.status };
}

/**
 * Deletes a contact: its hash is suppressed ('deleted', unless already suppressed), a history row
 * records it, and the batch's contact_count stays in step. False when there is no such contact.
 */
export async function deleteContact(
  exec: PgExec,
  id: number,
  actor: string,
  reason: string | null,
  now: number,
): Promise<boolean> {
  const found = await lockContact(exec, id);
  if (!found) return false;
  await suppressAddress(exec, { emailHash: found.hash, reason: 'deleted', actor, at: now });
  await exec.query(
    `INSERT INTO contact_history (contact_id, from_status, to_status, actor, reason, at)
     VALUES ($1, $2, 'deleted', $3, $4, $5)`,
    [id, found.status, actor, reason, now],
  );
  await exec.query('DELETE FROM contacts WHERE id = $1', [id]);
  await dropContactCountWith(exec, found.batchId, 1);
  return true;
}

/**
 * Replaces the reason of history rows that name `text` (lower-cased), and of every row of the
 * contact when given (before its deletion unlinks them); how many.
 */
export async function eraseHistoryText(
  exec: PgExec,
  contactId: number | null,
  text: string,
  replacement: string,
): Promise<number> {
  const names = 'strpos(lower(reason), $2) > 0';
  const result =
    contactId != null
      ? await exec.query(
          `UPDATE contact_history SET reason = $1 WHERE reason IS NOT NULL AND (contact_id = $3 OR ${names})`,
          [replacement, text, contactId],
        )
      : await exec.query(`UPDATE contact_history SET reason = $1 WHERE reason IS NOT NULL AND ${names}`, [
          replacement,
          text,
        ]);
  return result.rowCount ?? 0;
}
