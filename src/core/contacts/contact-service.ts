import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { batches, contactHistory, contacts, suppressions } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { exportSuppressionsCsv } from '../suppression/export.js';
import type { Actor, ContactStatus, CoreDeps, SuppressionReason } from '../types.js';
import { type Contact, contactColumns, toContact } from './contact.js';
import { emailHash } from './email-hash.js';

export type StatusChange = {
  at: string;
  from: string | null;
  to: string;
  actor: string;
  reason: string | null;
};

/** Statuses that put the address on the suppression list. */
const suppressingStatus: Partial<Record<ContactStatus, SuppressionReason>> = {
  bounced: 'bounced',
  unsubscribed: 'unsubscribed',
};

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Changes a contact's status inside the caller's transaction: history row, and a suppression
 * entry for bounced/unsubscribed. Refuses to make a suppressed address active again.
 */
export function changeStatus(
  tx: Tx,
  id: number,
  status: ContactStatus,
  actor: Actor,
  reason: string | null,
  now: number,
): { from: ContactStatus } {
  const row = tx
    .select({ status: contacts.status, hash: contacts.emailHash })
    .from(contacts)
    .where(eq(contacts.id, id))
    .get();
  if (!row) throw new DomainError('not_found', `No contact ${id}.`, { contactId: id });
  if (row.status === status) return { from: row.status };
  const suppressed = tx
    .select({ reason: suppressions.reason })
    .from(suppressions)
    .where(eq(suppressions.emailHash, row.hash))
    .get();
  if (status === 'active' && suppressed) {
    throw new DomainError(
      'suppressed',
      `Contact ${id} is on the suppression list (${suppressed.reason}): it cannot be made sendable again. ` +
        'A person who opted out must subscribe again themselves.',
      { reason: suppressed.reason },
    );
  }
  tx.update(contacts).set({ status, updatedAt: now }).where(eq(contacts.id, id)).run();
  tx.insert(contactHistory)
    .values({ contactId: id, fromStatus: row.status, toStatus: status, actor, reason, at: now })
    .run();
  const suppress = suppressingStatus[status];
  if (suppress) {
    tx.insert(suppressions)
      .values({ emailHash: row.hash, reason: suppress, actor, createdAt: now })
      .onConflictDoNothing()
      .run();
  }
  return { from: row.status };
}

/**
 * Deletes a contact inside the caller's transaction: its hash is suppressed ('deleted', unless
 * already suppressed), a history row records it, and the batch's contact_count stays in step.
 */
export function deleteContactWithin(
  tx: Tx,
  id: number,
  actor: Actor,
  reason: string | null,
  now: number,
): void {
  const row = tx
    .select({ status: contacts.status, hash: contacts.emailHash, batchId: contacts.batchId })
    .from(contacts)
    .where(eq(contacts.id, id))
    .get();
  if (!row) throw new DomainError('not_found', `No contact ${id}.`, { contactId: id });
  tx.insert(suppressions)
    .values({ emailHash: row.hash, reason: 'deleted', actor, createdAt: now })
    .onConflictDoNothing()
    .run();
  tx.insert(contactHistory)
    .values({ contactId: id, fromStatus: row.status, toStatus: 'deleted', actor, reason, at: now })
    .run();
  tx.delete(contacts).where(eq(contacts.id, id)).run();
  tx.update(batches)
    .set({ contactCount: sql`${batches.contactCount} - 1` })
    .where(eq(batches.id, row.batchId))
    .run();
}

export class ContactService {
  private readonly log;
  constructor(private readonly deps: CoreDeps) {
    this.log = deps.log.child({ module: 'contacts' });
  }

  /** The suppression list as CSV (address hashes, reason, actor, date), streamed. */
  exportSuppressions(): AsyncIterable<string> {
    return exportSuppressionsCsv(this.deps);
  }

  /** Returns one contact, or throws not_found. */
  get(id: number): Contact {
    const row = this.deps.db.select(contactColumns).from(contacts).where(eq(contacts.id, id)).get();
    if (!row) throw new DomainError('not_found', `No contact ${id}.`, { contactId: id });
    return toContact(row);
  }

  /** Changes a contact's status, records who and why; bounced/unsubscribed also suppress the address. */
  setStatus(id: number, status: ContactStatus, actor: Actor, reason?: string): Contact {
    const now = this.deps.clock.now();
    const change = this.deps.db.transaction((tx) => changeStatus(tx, id, status, actor, reason ?? null, now));
    if (change.from !== status)
      this.log.info({ contactId: id, from: change.from, to: status, actor }, 'contact status changed');
    return this.get(id);
  }

  /** Deletes a contact; its address stays suppressed (as a hash) so no import brings it back. */
  delete(id: number, actor: Actor, reason?: string): void {
    const now = this.deps.clock.now();
    this.deps.db.transaction((tx) => deleteContactWithin(tx, id, actor, reason ?? null, now));
    this.log.info({ contactId: id, actor }, 'contact deleted and suppressed');
  }

  /** A contact's status changes, oldest first. */
  history(id: number): StatusChange[] {
    this.get(id);
    return this.deps.db
      .select()
      .from(contactHistory)
      .where(eq(contactHistory.contactId, id))
      .orderBy(contactHistory.at, contactHistory.id)
      .all()
      .map((h) => ({
        at: new Date(h.at).toISOString(),
        from: h.fromStatus,
        to: h.toStatus,
        actor: h.actor,
        reason: h.reason,
      }));
  }

  /** Whether a normalized address is on the suppression list. */
  isSuppressed(normalizedEmail: string): boolean {
    return (
      this.deps.db
        .select({ one: sql`1` })
        .from(suppressions)
        .where(eq(suppressions.emailHash, emailHash(normalizedEmail)))
        .get() !== undefined
    );
  }
}
