/** What the inbox reader (INBOX_URL) took from a mailbox: each message once, and its bounce recipients. */
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';

import { inboxMessageKinds } from '../../../core/vocabulary.js';
import { contacts } from './batches.js';
import { campaigns, sends } from './campaigns.js';

/**
 * One row per message read from a mailbox. (mailbox, uid_validity, uid) is unique, so a message is
 * processed once across restarts and reconnects; the row is written in the same transaction as
 * its effects (statuses, suppressions, ledger marks).
 */
export const inboxMessages = pgTable(
  'inbox_messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    /** The mailbox as configured, without the password (imap://user@host:port/INBOX). */
    mailbox: text('mailbox').notNull(),
    uidValidity: text('uid_validity').notNull(),
    uid: bigint('uid', { mode: 'number' }).notNull(),
    kind: text('kind', { enum: inboxMessageKinds }).notNull(),
    /** The sender's address (lowercased); null when it has none. */
    fromAddress: text('from_address'),
    subject: text('subject'),
    /** The read message's own first Message-ID header. */
    messageId: text('message_id'),
    receivedAt: bigint('received_at', { mode: 'number' }).notNull(),
    /** The send it was matched to (VERP token, quoted Message-ID, or the address), if any. */
    sendId: bigint('send_id', { mode: 'number' }).references(() => sends.id, { onDelete: 'set null' }),
    campaignId: text('campaign_id').references(() => campaigns.id, { onDelete: 'set null' }),
    contactId: bigint('contact_id', { mode: 'number' }).references(() => contacts.id, {
      onDelete: 'set null',
    }),
    /** The first ~500 characters of the new text (quoted history stripped). */
    snippet: text('snippet'),
    /** JSON of kind-specific details (complaint: feedbackType and addresses; why it is unknown). */
    details: text('details'),
    /** The reply asked to be removed (or came to the unsubscribe mailto): the sender was unsubscribed. */
    unsubscribed: boolean('unsubscribed').notNull().default(false),
    /** Slack reply notice: where it was posted (JSON the transport owns) and when; null: not yet. */
    noticeRef: text('notice_ref'),
    notifiedAt: bigint('notified_at', { mode: 'number' }),
    processedAt: bigint('processed_at', { mode: 'number' }).notNull(),
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
export const inboxBounces = pgTable(
  'inbox_bounces',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    messageId: bigint('message_id', { mode: 'number' })
      .notNull()
      .references(() => inboxMessages.id, { onDelete: 'cascade' }),
    /** The failed recipient as the DSN names it (lowercased); null when it names none. */
    email: text('email'),
    status: text('status').notNull(),
    permanent: boolean('permanent').notNull(),
    hard: boolean('hard').notNull(),
    reason: text('reason').notNull(),
    /** The send this recipient was matched to; null: no send of ours. */
    sendId: bigint('send_id', { mode: 'number' }).references(() => sends.id, { onDelete: 'set null' }),
    at: bigint('at', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('inbox_bounces_message').on(t.messageId),
    index('inbox_bounces_email').on(t.email, t.at),
    index('inbox_bounces_send').on(t.sendId),
  ],
);
