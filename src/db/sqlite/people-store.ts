import { desc, eq, or } from 'drizzle-orm';
import type {
  ForgetCounts,
  ForgetRequest,
  PeopleStore,
  PersonInboxMessage,
} from '../../core/people/people-store.js';
import { isKnown, type PersonRows } from '../../core/people/people-store.js';
import { type Db, type Sqlite, truncateWal } from '../client.js';
import { batchEvents, batches, campaigns, contactHistory, contacts, sends } from '../schema.js';
import { eraseBatchTexts } from './batch-rows.js';
import { contactFieldColumns, deleteContact, eraseHistoryText } from './contact-status.js';
import { eraseSendResponses } from './send-store.js';
import { findSuppression, suppressAddress } from './suppression-rows.js';
import { deleteWebhooksQuoting } from './webhook-rows.js';

type Read = Pick<Db, 'select'>;
type Limits = { campaigns: number; inbox: number };

/**
 * Messages read from the mailbox about the person, newest first: those matched to the contact
 * (inbox_messages_contact) and bounces naming the address (inbox_bounces_email); both indexed.
 */
function inboxOf(
  sqlite: Sqlite,
  email: string,
  contactId: number | null,
  limit: number,
): PersonInboxMessage[] {
  if (limit <= 0) return [];
  return sqlite
    .prepare<{ contact: number | null; email: string; limit: number }, PersonInboxMessage>(
      `SELECT m.id, m.kind, m.from_address AS fromAddress, m.subject, m.snippet,
              m.received_at AS receivedAt, m.campaign_id AS campaignId
         FROM inbox_messages m
        WHERE m.contact_id = @contact
           OR m.id IN (SELECT b.message_id FROM inbox_bounces b WHERE b.email = @email)
        ORDER BY m.received_at DESC, m.id DESC LIMIT @limit`,
    )
    .all({ contact: contactId, email, limit });
}

/**
 * Blanks what messages read from the mailbox hold about the person (the sender's address, subject,
 * text, details; a bounce's recipient address); the rows stay, so the reader never reads them
 * again as new. How many messages were touched. The mail itself stays in the mailbox.
 */
function eraseInboxTexts(
  sqlite: Sqlite,
  email: string,
  contactId: number | null,
  replacement: string,
): number {
  sqlite.prepare('UPDATE inbox_bounces SET email = NULL WHERE email = ?').run(email);
  return sqlite
    .prepare<{ contact: number | null; email: string; replacement: string }>(
      `UPDATE inbox_messages SET from_address = NULL, subject = @replacement, snippet = NULL, details = NULL
        WHERE contact_id = @contact OR from_address = @email
           OR instr(lower(coalesce(details, '')), @email) > 0 OR instr(lower(coalesce(snippet, '')), @email) > 0`,
    )
    .run({ contact: contactId, email, replacement }).changes;
}

/** Everything the database holds about one normalized address (campaigns and mailbox messages bounded). */
function loadPerson(db: Read, sqlite: Sqlite, email: string, hash: Buffer, limits: Limits): PersonRows {
  const contact =
    db
      .select({
        ...contactFieldColumns,
        validation: contacts.validation,
        validatedAt: contacts.validatedAt,
        createdAt: contacts.createdAt,
        updatedAt: contacts.updatedAt,
      })
      .from(contacts)
      .where(eq(contacts.email, email))
      .get() ?? null;
  const batch = contact
    ? (db
        .select({
          id: batches.id,
          name: batches.name,
          status: batches.status,
          activatedAt: batches.activatedAt,
          deactivatedAt: batches.deactivatedAt,
          includeInvalidDomains: batches.includeInvalidDomains,
        })
        .from(batches)
        .where(eq(batches.id, contact.batchId))
        .get() ?? null)
    : null;
  const events = batch
    ? db
        .select({
          kind: batchEvents.kind,
          actor: batchEvents.actor,
          reason: batchEvents.reason,
          at: batchEvents.at,
        })
        .from(batchEvents)
        .where(eq(batchEvents.batchId, batch.id))
        .orderBy(batchEvents.at, batchEvents.id)
        .all()
    : [];
  const history = contact
    ? db
        .select({
          fromStatus: contactHistory.fromStatus,
          toStatus: contactHistory.toStatus,
          actor: contactHistory.actor,
          reason: contactHistory.reason,
          at: contactHistory.at,
        })
        .from(contactHistory)
        .where(eq(contactHistory.contactId, contact.id))
        .orderBy(contactHistory.at, contactHistory.id)
        .all()
    : [];
  const ledger = db
    .select({
      campaignId: sends.campaignId,
      campaignName: campaigns.name,
      run: sends.run,
      status: sends.status,
      attempts: sends.attempts,
      messageId: sends.messageId,
      response: sends.response,
      account: sends.account,
      claimedAt: sends.claimedAt,
      updatedAt: sends.updatedAt,
      unsubscribedAt: sends.unsubscribedAt,
      repliedAt: sends.repliedAt,
      complainedAt: sends.complainedAt,
      softBouncedAt: sends.softBouncedAt,
    })
    .from(sends)
    .innerJoin(campaigns, eq(campaigns.id, sends.campaignId))
    .where(
      contact ? or(eq(sends.contactId, contact.id), eq(sends.emailHash, hash)) : eq(sends.emailHash, hash),
    )
    .orderBy(desc(sends.claimedAt), desc(sends.id))
    .all();
  const campaignRows = db
    .select({
      id: campaigns.id,
      name: campaigns.name,
      status: campaigns.status,
      startedAt: campaigns.startedAt,
      runStartedAt: campaigns.runStartedAt,
      nextRunAt: campaigns.nextRunAt,
    })
    .from(campaigns)
    .orderBy(desc(campaigns.createdAt), desc(campaigns.id))
    .limit(limits.campaigns)
    .all();
  return {
    email,
    hash,
    contact,
    batch,
    batchEvents: events,
    history,
    suppression: findSuppression(db, hash),
    sends: ledger,
    campaigns: campaignRows,
    inbox: inboxOf(sqlite, email, contact?.id ?? null, limits.inbox),
  };
}

/** What is held about one person, across the tables, over SQLite. */
export class SqlitePeopleStore implements PeopleStore {
  constructor(private readonly db: Db) {}

  async load(email: string, hash: Buffer, limits: Limits): Promise<PersonRows> {
    return loadPerson(this.db, this.db.$client, email, hash, limits);
  }

  async forget(req: ForgetRequest): Promise<{ contactId: number | null; counts: ForgetCounts } | null> {
    const { email, hash, replacement } = req;
    return this.db.transaction((tx) => {
      const r = loadPerson(tx, this.db.$client, email, hash, { campaigns: 0, inbox: 0 });
      if (!isKnown(r)) return null;
      const contactId = r.contact?.id ?? null;
      // Free text naming the person, before the contact's history loses its link to them.
      const historyTexts = eraseHistoryText(tx, contactId, email, replacement);
      const erased = eraseBatchTexts(this.db.$client, email, replacement);
      const webhookRows = deleteWebhooksQuoting(tx, email);
      const inboxMessages = eraseInboxTexts(this.db.$client, email, contactId, replacement);
      // The ledger keeps the hash and the outcome, never the answer text (it may quote the address).
      const ledgerRows = eraseSendResponses(tx, contactId, hash);
      if (contactId != null) {
        // Suppresses the hash ('deleted'), keeps the batch count in step; the ledger's and the
        // history's contact_id become null (ON DELETE SET NULL); its sequence_people rows go (CASCADE).
        deleteContact(tx, contactId, req.actor, replacement, req.at);
      } else {
        suppressAddress(tx, { emailHash: hash, reason: 'deleted', actor: req.actor, at: req.at });
      }
      const counts: ForgetCounts = {
        contacts: contactId != null ? 1 : 0,
        ledgerRows,
        historyTexts,
        batchEventTexts: erased.events,
        importReports: erased.reports,
        webhookDeliveries: webhookRows,
        inboxMessages,
        suppressionAdded: !r.suppression,
      };
      return { contactId, counts };
    });
  }

  async compact(): Promise<boolean> {
    return truncateWal(this.db);
  }
}
