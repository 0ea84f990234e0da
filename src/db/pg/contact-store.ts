import type {
  ContactRecord,
  ContactStore,
  StatusChangeOrder,
  StatusChangeResult,
  StatusChangeRow,
} from '../../core/contacts/contact-store.js';
import { notSendableReasonSql } from './audience-sql.js';
import { inTransaction, type PgDb, row, rows } from './client.js';
import { changeContactStatus, contactFieldsSql, deleteContact } from './contact-status.js';

/**
 * Contacts one at a time over Postgres: reads are one statement each on the pool; the status
 * change and the deletion are contact-status.ts's functions (the stores that change a contact
 * inside their own transaction, a bounce, an unsubscribe or a forget, call them too), each in its
 * own transaction.
 */
export class PgContactStore implements ContactStore {
  constructor(private readonly db: PgDb) {}

  async find(id: number): Promise<ContactRecord | null> {
    // Why it is not sendable: the audience rule's text over the contact and its batch.
    return (
      (await row<ContactRecord>(
        this.db.$client,
        `SELECT ${contactFieldsSql('c')}, c.created_at AS "createdAt", c.updated_at AS "updatedAt",
           ${notSendableReasonSql} AS "notSendableReason",
           sup.reason AS "suppressionReason", sup.actor AS "suppressedBy", sup.created_at AS "suppressedAt"
         FROM contacts c LEFT JOIN batches b ON b.id = c.batch_id
           LEFT JOIN suppressions sup ON sup.email_hash = c.email_hash
         WHERE c.id = $1`,
        [id],
      )) ?? null
    );
  }

  async idByEmail(email: string): Promise<number | null> {
    return (
      (await row<{ id: number }>(this.db.$client, 'SELECT id FROM contacts WHERE email = $1', [email]))?.id ??
      null
    );
  }

  async changeStatus(o: StatusChangeOrder): Promise<StatusChangeResult> {
    return inTransaction(this.db.$client, (tx) =>
      changeContactStatus(tx, o.id, o.status, o.actor, o.reason, o.at),
    );
  }

  async delete(id: number, actor: string, reason: string | null, at: number): Promise<boolean> {
    return inTransaction(this.db.$client, (tx) => deleteContact(tx, id, actor, reason, at));
  }

  async history(id: number): Promise<StatusChangeRow[]> {
    return rows<StatusChangeRow>(
      this.db.$client,
      `SELECT at, from_status AS "from", to_status AS "to", actor, reason FROM contact_history
       WHERE contact_id = $1 ORDER BY at, id`,
      [id],
    );
  }
}
