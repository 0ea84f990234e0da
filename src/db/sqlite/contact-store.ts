import type {
  ContactRecord,
  ContactStore,
  StatusChangeOrder,
  StatusChangeResult,
  StatusChangeRow,
} from '../../core/contacts/contact-store.js';
import type { Db } from '../client.js';
import { notSendableReasonSql } from './audience-sql.js';
import { changeContactStatus, deleteContact } from './contact-status.js';

/**
 * Contacts one at a time over SQLite: reads with statements prepared once; the status change and
 * the deletion are contact-status.ts's functions (the stores that change a contact inside their own
 * transaction, a bounce, an unsubscribe or a forget, call them too), each in its own transaction.
 */
export class SqliteContactStore implements ContactStore {
  private readonly s;
  constructor(private readonly db: Db) {
    const c = db.$client;
    this.s = {
      // Why it is not sendable: the audience rule's text over the contact and its batch.
      find: c.prepare<[number], ContactRecord>(
        `SELECT c.id, c.email, c.name, c.company, c.position, c.source, c.status, c.batch_id AS batchId,
           c.interest, c.created_at AS createdAt, c.updated_at AS updatedAt,
           ${notSendableReasonSql} AS notSendableReason,
           sup.reason AS suppressionReason, sup.actor AS suppressedBy, sup.created_at AS suppressedAt
         FROM contacts c LEFT JOIN batches b ON b.id = c.batch_id
           LEFT JOIN suppressions sup ON sup.email_hash = c.email_hash
         WHERE c.id = ?`,
      ),
      idByEmail: c.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?'),
      history: c.prepare<[number], StatusChangeRow>(
        `SELECT at, from_status AS "from", to_status AS "to", actor, reason FROM contact_history
         WHERE contact_id = ? ORDER BY at, id`,
      ),
    };
  }

  async find(id: number): Promise<ContactRecord | null> {
    return this.s.find.get(id) ?? null;
  }

  async idByEmail(email: string): Promise<number | null> {
    return this.s.idByEmail.get(email)?.id ?? null;
  }

  async changeStatus(o: StatusChangeOrder): Promise<StatusChangeResult> {
    return this.db.transaction((tx) => changeContactStatus(tx, o.id, o.status, o.actor, o.reason, o.at));
  }

  async delete(id: number, actor: string, reason: string | null, at: number): Promise<boolean> {
    return this.db.transaction((tx) => deleteContact(tx, id, actor, reason, at));
  }

  async history(id: number): Promise<StatusChangeRow[]> {
    return this.s.history.all(id);
  }
}
