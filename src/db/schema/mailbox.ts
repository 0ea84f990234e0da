/** What the inbox reader (INBOX_URL) took from a mailbox: each message once, and its bounce recipients. */
import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { inboxMessageKinds } from '../../core/vocabulary.js';
import { contacts } from './batches.js';
import { campaigns, sends } from './campaigns.js';

/**
 * One row per message read from a mailbox. (mailbox, uid_validity, uid) is unique, so a message is
 * processed once across restarts and reconnects; the row is written in the same transaction as
 * its effects (statuses, suppressions, ledger marks).
 */
export const inboxMessages = sqliteTable(
  'inbox_messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The mailbox as configured, without the password (imap://user@host:port/INBOX). */
    mailbox: text('mailbox').notNull(),
    uidValidity: text('uid_validity').notNull(),
    uid: integer('uid').notNull(),
    kind: text('kind', { enum: inboxMessageKinds }).notNull(),
    /** The sender's address (lowercased); null when it has none. */
    fromAddress: text('from_address'),
    subject: text('subject'),
    /** The read message's own first Message-ID header. */
    messageId: text('message_id'),
    receivedAt: integer('received_at').notNull(),
    /** The send it was matched to (VERP token, quoted Message-ID, or the address), if any. */
    sendId: integer('send_id').references(() => sends.id, { onDelete: 'set null' }),
    campaignId: text('campaign_id').references(() => campaigns.id, { onDelete: 'set null' }),
    contactId: integer('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    /** The first ~500 characters of the new text (quoted history stripped). */
    snippet: text('snippet'),
    /** JSON of kind-specific details (complaint: feedbackType and addresses; why it is unknown). */
    details: text('details'),
    /** The reply asked to be removed (or came to the unsubscribe mailto): the sender was unsubscribed. */
    unsubscribed: integer('unsubscribed', { mode: 'boolean' }).notNull().default(false),
    /** Slack reply notice: where it was posted (JSON the transport owns) and when; null: not yet. */
    noticeRef: text('notice_ref'),
    notifiedAt: integer('notified_at'),
    processedAt: integer('processed_at').notNull(),
  },
  (t) => [
    uniqueIndex('inbox_messages_uid').on(t.mailbox, t.uidValidity, t.uid),
    index('inbox_messages_kind').on(t.kind, t.id),
    index('inbox_messages_campaign').on(t.campaignId, t.id),
    index('inbox_messages_contact').on(t.contactId),
    index('inbox_messages_unnotified').on(t.kind, t.notifiedAt),
    check(
      'inbox_messages_kind_check',
      sql`${t.kind} in ('reply','bounce','complaint','auto_reply','delivery_report','unknown')`,
    ),
  ],
);

/** One row per failed recipient of a bounce: the soft-bounce limit counts these per address. */
export const inboxBounces = sqliteTable(
  'inbox_bounces',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    messageId: integer('message_id')
      .notNull()
      .references(() => inboxMessages.id, { onDelete: 'cascade' }),
    /** The failed recipient as the DSN names it (lowercased); null when it names none. */
    email: text('email'),
    status: text('status').notNull(),
    permanent: integer('permanent', { mode: 'boolean' }).notNull(),
    hard: integer('hard', { mode: 'boolean' }).notNull(),
    reason: text('reason').notNull(),
    /** The send this recipient was matched to; null: no send of ours. */
    sendId: integer('send_id').references(() => sends.id, { onDelete: 'set null' }),
    at: integer('at').notNull(),
  },
  (t) => [
    index('inbox_bounces_message').on(t.messageId),
    index('inbox_bounces_email').on(t.email, t.at),
    index('inbox_bounces_send').on(t.sendId),
  ],
);
