import { desc, eq, or } from 'drizzle-orm';
import type { ForgetCounts, ForgetRequest, PeopleStore } from '../../core/people/people-store.js';
import { isKnown, type PersonRows } from '../../core/people/people-store.js';
import { type Db, truncateWal } from '../client.js';
import { batchEvents, batches, campaigns, contactHistory, contacts, sends } from '../schema.js';
import { eraseBatchTexts } from './batch-rows.js';
import { contactFieldColumns, deleteContact, eraseHistoryText } from './contact-status.js';
import { eraseSendResponses } from './send-store.js';
import { findSuppression, suppressAddress } from './suppression-rows.js';
import { deleteWebhooksQuoting } from './webhook-rows.js';

type Read = Pick<Db, 'select'>;

/** Everything the database holds about one normalized address (campaigns bounded by `campaignLimit`). */
function loadPerson(db: Read, email: string, hash: Buffer, campaignLimit: number): PersonRows {
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
    .limit(campaignLimit)
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
  };
}

/** What is held about one person, across the tables, over SQLite. */
export class SqlitePeopleStore implements PeopleStore {
  constructor(private readonly db: Db) {}

  async load(email: string, hash: Buffer, campaignLimit: number): Promise<PersonRows> {
    return loadPerson(this.db, email, hash, campaignLimit);
  }

  async forget(req: ForgetRequest): Promise<{ contactId: number | null; counts: ForgetCounts } | null> {
    const { email, hash, replacement } = req;
    return this.db.transaction((tx) => {
      const r = loadPerson(tx, email, hash, 0);
      if (!isKnown(r)) return null;
      const contactId = r.contact?.id ?? null;
      // Free text naming the person, before the contact's history loses its link to them.
      const historyTexts = eraseHistoryText(tx, contactId, email, replacement);
      const erased = eraseBatchTexts(this.db.$client, email, replacement);
      const webhookRows = deleteWebhooksQuoting(tx, email);
      // The ledger keeps the hash and the outcome, never the answer text (it may quote the address).
      const ledgerRows = eraseSendResponses(tx, contactId, hash);
      if (contactId != null) {
        // Suppresses the hash ('deleted'), keeps the batch count in step; the ledger's and the
        // history's contact_id become null (ON DELETE SET NULL).
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
        suppressionAdded: !r.suppression,
      };
      return { contactId, counts };
    });
  }

  async compact(): Promise<boolean> {
    return truncateWal(this.db);
  }
}
