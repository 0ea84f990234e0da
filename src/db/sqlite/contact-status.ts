import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import { reactivatableWhenSuppressed, type StatusChangeResult } from '../../core/contacts/contact-store.js';
import type { ContactStatus, SuppressionReason } from '../../core/vocabulary.js';
import type { Db } from '../client.js';
import { contactHistory, contacts } from '../schema.js';
import { dropContactCountWith } from './batch-rows.js';
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

/**
 * A contact's status and deletion with their history rows, run inside the caller's transaction:
 * the contact store's own writes and those of the stores that change a contact as part of their
 * work (a hard bounce, an unsubscribe, a forget) all go through these.
 */

/** The app's connection or a transaction on it. */
type Tx = Pick<Db, 'select' | 'insert' | 'update' | 'delete'>;

/** Statuses that put the address on the suppression list. */
const suppressingStatus: Partial<Record<ContactStatus, SuppressionReason>> = {
  bounced: 'bounced',
  unsubscribed: 'unsubscribed',
  complained: 'complained',
};

/**
 * Changes a contact's status with a history row, suppresses the address for
 * bounced/unsubscribed/complained, and stops the contact's waiting sequences (any status but
 * active). Refuses (`suppressed`, nothing written) to make a suppressed address active, except
 * from `replied`/`complained` (reactivatableWhenSuppressed): a person's decision about the
 * contact, which leaves the suppression in place.
 */
export function changeContactStatus(
  tx: Tx,
  id: number,
  status: ContactStatus,
  actor: string,
  reason: string | null,
  now: number,
): StatusChangeResult {
  const row = tx
    .select({ status: contacts.status, hash: contacts.emailHash })
    .from(contacts)
    .where(eq(contacts.id, id))
    .get();
  if (!row) return { kind: 'missing' };
  if (row.status === status) return { kind: 'unchanged', from: row.status };
  if (status === 'active' && !reactivatableWhenSuppressed.includes(row.status)) {
    const suppressed = findSuppression(tx, row.hash);
    if (suppressed) return { kind: 'suppressed', reason: suppressed.reason };
  }
  tx.update(contacts).set({ status, updatedAt: now }).where(eq(contacts.id, id)).run();
  tx.insert(contactHistory)
    .values({ contactId: id, fromStatus: row.status, toStatus: status, actor, reason, at: now })
    .run();
  const suppress = suppressingStatus[status];
  if (suppress) suppressAddress(tx, { emailHash: row.hash, reason: suppress, actor, at: now });
  // Out of every audience: the person's waiting sequences stop in this commit.
  const stop = stopReasonOfStatus(status);
  if (stop) stopSequences(tx, { contactIds: [id] }, stop, now);
  return { kind: 'changed', from: row.status };
}

/**
 * Deletes a contact: its hash is suppressed ('deleted', unless already suppressed), a history row
 * records it, and the batch's contact_count stays in step. False when there is no such contact.
 */
export function deleteContact(
  tx: Tx,
  id: number,
  actor: string,
  reason: string | null,
  now: number,
): boolean {
  const row = tx
    .select({ status: contacts.status, hash: contacts.emailHash, batchId: contacts.batchId })
    .from(contacts)
    .where(eq(contacts.id, id))
    .get();
  if (!row) return false;
  suppressAddress(tx, { emailHash: row.hash, reason: 'deleted', actor, at: now });
  tx.insert(contactHistory)
    .values({ contactId: id, fromStatus: row.status, toStatus: 'deleted', actor, reason, at: now })
    .run();
  tx.delete(contacts).where(eq(contacts.id, id)).run();
  dropContactCountWith(tx, row.batchId, 1);
  return true;
}

/**
 * Replaces the reason of history rows that name `text` (lower-cased), and of every row of the
 * contact when given (before its deletion unlinks them); how many.
 */
export function eraseHistoryText(
  tx: Tx,
  contactId: number | null,
  text: string,
  replacement: string,
): number {
  const names = sql`instr(lower(${contactHistory.reason}), ${text}) > 0`;
  return tx
    .update(contactHistory)
    .set({ reason: replacement })
    .where(
      and(
        isNotNull(contactHistory.reason),
        contactId != null ? or(eq(contactHistory.contactId, contactId), names) : names,
      ),
    )
    .run().changes;
}
