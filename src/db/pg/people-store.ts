import type {
  ForgetCounts,
  ForgetRequest,
  PeopleStore,
  PersonBatch,
  PersonBatchEvent,
  PersonCampaign,
  PersonContact,
  PersonHistoryRow,
  PersonInboxMessage,
  SendRow,
} from '../../core/people/people-store.js';
import { isKnown, type PersonRows } from '../../core/people/people-store.js';
import { eraseBatchTexts } from './batch-rows.js';
import { inSnapshot, inTransaction, type PgDb, type PgExec, row, rows } from './client.js';
import { deleteContact, eraseHistoryText } from './contact-status.js';
import { forgetLockKey, lockKey } from './mailbox-effects.js';
import { eraseSendResponses } from './send-store.js';
import { findSuppression, suppressAddress } from './suppression-rows.js';
import { deleteWebhooksQuoting } from './webhook-rows.js';

type Limits = { campaigns: number; inbox: number };

const contactSql = `SELECT id, email, name, company, position, source, status, batch_id AS "batchId", interest,
    validation, validated_at AS "validatedAt", created_at AS "createdAt", updated_at AS "updatedAt"
  FROM contacts WHERE email = $1`;
const batchSql = `SELECT id, name, status, activated_at AS "activatedAt", deactivated_at AS "deactivatedAt",
    include_invalid_domains AS "includeInvalidDomains"
  FROM batches WHERE id = $1`;
const eventsSql = 'SELECT kind, actor, reason, at FROM batch_events WHERE batch_id = $1 ORDER BY at, id';
const historySql = `SELECT from_status AS "fromStatus", to_status AS "toStatus", actor, reason, at
  FROM contact_history WHERE contact_id = $1 ORDER BY at, id`;
// A null contact id matches no row (`= NULL`): the hash alone then.
const ledgerSql = `SELECT s.campaign_id AS "campaignId", k.name AS "campaignName", s.run, s.status, s.attempts,
    s.message_id AS "messageId", s.response, s.account, s.claimed_at AS "claimedAt", s.updated_at AS "updatedAt",
    s.unsubscribed_at AS "unsubscribedAt", s.replied_at AS "repliedAt", s.complained_at AS "complainedAt",
    s.soft_bounced_at AS "softBouncedAt"
  FROM sends s JOIN campaigns k ON k.id = s.campaign_id
  WHERE s.contact_id = $1 OR s.email_hash = $2
  ORDER BY s.claimed_at DESC, s.id DESC`;
// Campaign ids compared byte by byte, as SQLite does (the database's locale may order them otherwise).
const campaignsSql = `SELECT id, name, status, started_at AS "startedAt", run_started_at AS "runStartedAt",
    next_run_at AS "nextRunAt"
  FROM campaigns ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $1`;
/**
 * Messages read from the mailbox about the person, newest first: those matched to the contact
 * (inbox_messages_contact) and bounces naming the address (inbox_bounces_email); both indexed.
 */
const inboxSql = `SELECT m.id, m.kind, m.from_address AS "fromAddress", m.subject, m.snippet,
    m.received_at AS "receivedAt", m.campaign_id AS "campaignId"
  FROM inbox_messages m
  WHERE m.contact_id = $1 OR m.id IN (SELECT b.message_id FROM inbox_bounces b WHERE b.email = $2)
  ORDER BY m.received_at DESC, m.id DESC LIMIT $3`;
const eraseBouncesSql = 'UPDATE inbox_bounces SET email = NULL WHERE email = $1';
const eraseMessagesSql = `UPDATE inbox_messages SET from_address = NULL, subject = $3, snippet = NULL, details = NULL
  WHERE contact_id = $1 OR from_address = $2
    OR strpos(lower(coalesce(details, '')), $2) > 0 OR strpos(lower(coalesce(snippet, '')), $2) > 0`;
/** The tables a forget rewrites (free text, the contact row and its index entries). */
const forgetTables = [
  'contacts',
  'contact_history',
  'batch_events',
  'batches',
  'webhook_deliveries',
  'inbox_messages',
  'inbox_bounces',
  'sends',
];

/**
 * Everything the database holds about one normalized address (campaigns and mailbox messages
 * bounded). `lockContact`: a forget holds the contact row from the first read, so a change made
 * by another instance (a status change, an opt-out's webhook row) commits before the erasure
 * reads it or waits until the contact is gone.
 */
async function loadPerson(
  exec: PgExec,
  email: string,
  hash: Buffer,
  limits: Limits,
  lockContact = false,
): Promise<PersonRows> {
  const contact =
    (await row<PersonContact>(exec, lockContact ? `${contactSql} FOR UPDATE` : contactSql, [email])) ?? null;
  const batch = contact ? ((await row<PersonBatch>(exec, batchSql, [contact.batchId])) ?? null) : null;
  const batchEvents = batch ? await rows<PersonBatchEvent>(exec, eventsSql, [batch.id]) : [];
  const history = contact ? await rows<PersonHistoryRow>(exec, historySql, [contact.id]) : [];
  const sends = await rows<SendRow>(exec, ledgerSql, [contact?.id ?? null, hash]);
  const campaigns = await rows<PersonCampaign>(exec, campaignsSql, [limits.campaigns]);
  return {
    email,
    hash,
    contact,
    batch,
    batchEvents,
    history,
    suppression: await findSuppression(exec, hash),
    sends,
    campaigns,
    inbox:
      limits.inbox > 0
        ? await rows<PersonInboxMessage>(exec, inboxSql, [contact?.id ?? null, email, limits.inbox])
        : [],
  };
}

/**
 * Blanks what messages read from the mailbox hold about the person (the sender's address, subject,
 * text, details; a bounce's recipient address); the rows stay, so the reader never reads them
 * again as new. How many messages were touched. The mail itself stays in the mailbox.
 */
async function eraseInboxTexts(
  tx: PgExec,
  email: string,
  contactId: number | null,
  replacement: string,
): Promise<number> {
  await tx.query(eraseBouncesSql, [email]);
  return (await tx.query(eraseMessagesSql, [contactId, email, replacement])).rowCount ?? 0;
}

/** What is held about one person, across the tables, over Postgres. */
export class PgPeopleStore implements PeopleStore {
  constructor(private readonly db: PgDb) {}

  async load(email: string, hash: Buffer, limits: Limits): Promise<PersonRows> {
    // One view of every table, as SQLite's synchronous reads give.
    return inSnapshot(this.db.$client, (tx) => loadPerson(tx, email, hash, limits));
  }

  async forget(req: ForgetRequest): Promise<{ contactId: number | null; counts: ForgetCounts } | null> {
    const { email, hash, replacement } = req;
    return inTransaction(this.db.$client, async (tx) => {
      // One forget at a time, and none while a message is being recorded (mailbox-effects.ts).
      await lockKey(tx, forgetLockKey);
      const r = await loadPerson(tx, email, hash, { campaigns: 0, inbox: 0 }, true);
      if (!isKnown(r)) return null;
      const contactId = r.contact?.id ?? null;
      // Free text naming the person, before the contact's history loses its link to them.
      const historyTexts = await eraseHistoryText(tx, contactId, email, replacement);
      const erased = await eraseBatchTexts(tx, email, replacement);
      const webhookRows = await deleteWebhooksQuoting(tx, email);
      const inboxMessages = await eraseInboxTexts(tx, email, contactId, replacement);
      // The ledger keeps the hash and the outcome, never the answer text (it may quote the address).
      const ledgerRows = await eraseSendResponses(tx, contactId, hash);
      if (contactId != null) {
        // Suppresses the hash ('deleted'), keeps the batch count in step; the ledger's and the
        // history's contact_id become null (ON DELETE SET NULL); its sequence_people rows go (CASCADE).
        await deleteContact(tx, contactId, req.actor, replacement, req.at);
      } else {
        await suppressAddress(tx, { emailHash: hash, reason: 'deleted', actor: req.actor, at: req.at });
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

  /**
   * Postgres keeps a changed row's old version in the table (and its index entries) until VACUUM
   * prunes it: the tables a forget rewrote are vacuumed now rather than at autovacuum's next pass.
   * False when one was skipped (locked by another maintenance run, or not ours to vacuum): a later
   * autovacuum does it. The server's WAL and any backups are the operator's (no SQLite-like WAL
   * file the app could reset).
   */
  async compact(): Promise<boolean> {
    const client = await this.db.$client.connect();
    let skipped = false;
    const onNotice = (n: { severity?: string }) => {
      if (n.severity === 'WARNING') skipped = true;
    };
    client.on('notice', onNotice);
    try {
      await client.query(`VACUUM (SKIP_LOCKED) ${forgetTables.join(', ')}`);
      return !skipped;
    } finally {
      client.off('notice', onNotice);
      client.release();
    }
  }
}
