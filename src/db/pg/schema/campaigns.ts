/** Campaigns, the send ledger and the sending identities. */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import {
  campaignEventKinds,
  campaignStatuses,
  sendStatuses,
  sequenceStopReasons,
} from '../../../core/vocabulary.js';
import { contacts } from './batches.js';
import { bytea } from './bytea.js';

export const campaigns = pgTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    html: text('html'),
    /**
     * JSON SequenceStep[] (core/campaigns/sequence.ts) when the campaign has follow-ups or variants;
     * null: one step, the subject/body/html columns (which always hold step 1's text).
     */
    steps: text('steps'),
    fromAddress: text('from_address').notNull(),
    /** One-off send time (ms); with neither sendAt nor cron the campaign is a draft. */
    sendAt: bigint('send_at', { mode: 'number' }),
    cron: text('cron'),
    dailyLimit: bigint('daily_limit', { mode: 'number' }),
    ratePerMinute: bigint('rate_per_minute', { mode: 'number' }),
    /** JSON SendWindow {days, start, end, timezone}, or null for any time. */
    sendWindow: text('send_window'),
    timezone: text('timezone').notNull().default('UTC'),
    status: text('status', { enum: campaignStatuses }).notNull(),
    statusReason: text('status_reason'),
    /** When the next run may start (the send time, or the next cron occurrence). */
    nextRunAt: bigint('next_run_at', { mode: 'number' }),
    /** Set when a run was missed by more than the grace period: a person must confirm. */
    awaitingConfirmation: boolean('awaiting_confirmation').notNull().default(false),
    /** Runs so far (a one-off campaign has one; a drip one per cron occurrence). */
    runCount: bigint('run_count', { mode: 'number' }).notNull().default(0),
    runStartedAt: bigint('run_started_at', { mode: 'number' }),
    createdBy: text('created_by').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    startedAt: bigint('started_at', { mode: 'number' }),
    completedAt: bigint('completed_at', { mode: 'number' }),
    /** Where the transport shows progress (e.g. a Slack message), JSON it owns. */
    progressRef: text('progress_ref'),
    /**
     * Two-person rule (APPROVAL_THRESHOLD): when set, the campaign may not start until a second
     * admin, not `createdBy`, approves it (approvedBy/approvedAt).
     */
    approvalRequiredAt: bigint('approval_required_at', { mode: 'number' }),
    approvedBy: text('approved_by'),
    approvedAt: bigint('approved_at', { mode: 'number' }),
    /**
     * Why a campaign is `held` (PRODUCT.md §9): `doctor` (a deliverability check failed when its
     * send would start); `heldChecks` the failing checks as JSON. Released by an admin ("send anyway").
     */
    heldReason: text('held_reason'),
    heldChecks: text('held_checks'),
  },
  (t) => [
    index('campaigns_status_next').on(t.status, t.nextRunAt),
    index('campaigns_created').on(t.createdAt, t.id),
    check(
      'campaigns_status_check',
      sql`${t.status} in ('draft','scheduled','sending','paused','held','completed','cancelled')`,
    ),
  ],
);

/**
 * The send ledger: a row is claimed before the SMTP call and settled after it, so each
 * (campaign, contact) gets at most one message; a row left `claimed` by a crash becomes `unknown`.
 */
export const sends = pgTable(
  'sends',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    contactId: bigint('contact_id', { mode: 'number' }).references(() => contacts.id, {
      onDelete: 'set null',
    }),
    emailHash: bytea('email_hash').notNull(),
    run: bigint('run', { mode: 'number' }).notNull(),
    /** The sequence step this message is (1-based; a one-step campaign's rows are all step 1). */
    step: bigint('step', { mode: 'number' }).notNull().default(1),
    /** The A/B variant of the step (1-based); null when the step has no variants. */
    variant: bigint('variant', { mode: 'number' }),
    status: text('status', { enum: sendStatuses }).notNull(),
    attempts: bigint('attempts', { mode: 'number' }).notNull().default(0),
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }),
    messageId: text('message_id'),
    /** The last SMTP answer (code and text), never the address. */
    response: text('response'),
    claimedAt: bigint('claimed_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    unsubscribedAt: bigint('unsubscribed_at', { mode: 'number' }),
    /** The sending identity (SMTP account key) that took the message; null with a single transport. */
    account: text('account'),
    /** When the inbox matched a human reply, a complaint or a soft bounce to this message (core/mailbox). */
    repliedAt: bigint('replied_at', { mode: 'number' }),
    complainedAt: bigint('complained_at', { mode: 'number' }),
    softBouncedAt: bigint('soft_bounced_at', { mode: 'number' }),
    /**
     * Postgres only: the instance (db/pg/instance.ts) that claimed the row while it is `claimed`.
     * Another instance's sweep marks it `unknown` only once that one is no longer alive; null (a
     * row claimed before leases, or copied from SQLite) counts as not alive.
     */
    claimedBy: text('claimed_by'),
  },
  (t) => [
    // At most one message per (campaign, contact, step): the ledger's at-most-once rule.
    uniqueIndex('sends_campaign_contact_step').on(t.campaignId, t.contactId, t.step),
    // Per-contact history and reports by batch; also keeps ON DELETE SET NULL from scanning sends.
    index('sends_contact').on(t.contactId),
    // Per-account daily caps: messages an identity took since the start of the day. Only rows with
    // an identity (SMTP_URLS): a single transport's claims write no entry here.
    index('sends_account_claimed').on(t.account, t.claimedAt).where(sql`${t.account} IS NOT NULL`),
    index('sends_campaign_status').on(t.campaignId, t.status, t.nextAttemptAt),
    index('sends_campaign_run').on(t.campaignId, t.run),
    // Message-IDs of sends from before send refs (core/mailbox/send-ref.ts), for matching replies and
    // bounces that quote them; ours (`<cb.…>`) name their row themselves and stay out of the index.
    index('sends_legacy_message_id').on(t.messageId).where(sql`substr(${t.messageId}, 1, 4) <> '<cb.'`),
    // The few rows the mailbox marked (db/sqlite/send-counts.ts counts them apart, so counting a
    // campaign's ledger still reads no more than the statuses and unsubscribes).
    index('sends_mailbox_marked')
      .on(t.campaignId, t.status)
      .where(
        sql`${t.repliedAt} IS NOT NULL OR ${t.complainedAt} IS NOT NULL OR ${t.softBouncedAt} IS NOT NULL`,
      ),
    // Figures per step and variant (sequences, A/B): only rows of a later step or with a variant,
    // so a one-step campaign's sends write no entry here (its step 1 is the campaign's figures).
    // No status in it: settling a message would rewrite the entry (the counts read the rows anyway).
    index('sends_step_variant')
      .on(t.campaignId, t.step, t.variant)
      .where(sql`${t.step} > 1 OR ${t.variant} IS NOT NULL`),
    // The lease sweep (rows claimed by instances no longer alive), run every minute: only the few
    // rows in flight are in it, so it never reads the ledger.
    index('sends_claimed').on(t.claimedBy).where(sql`${t.status} = 'claimed'`),
    check('sends_status_check', sql`${t.status} in ('claimed','sent','retry','failed','bounced','unknown')`),
  ],
);

/** A campaign's history: every status change and admin decision, oldest first (GET /campaigns/{id}). */
export const campaignEvents = pgTable(
  'campaign_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    at: bigint('at', { mode: 'number' }).notNull(),
    actor: text('actor').notNull(),
    kind: text('kind', { enum: campaignEventKinds }).notNull(),
    /** Plain words: the reason, the failing checks, who approved. */
    detail: text('detail'),
  },
  (t) => [index('campaign_events_campaign').on(t.campaignId, t.id)],
);

/**
 * A person's place in a campaign's sequence (only campaigns with follow-ups have rows): the last
 * step claimed for them, when the next is due, and why it stopped. Waiting: `next_due_at` set (or
 * the last step's ledger row still claimed/retry); stopped: `stop_reason` set; else finished.
 */
export const sequencePeople = pgTable(
  'sequence_people',
  {
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    contactId: bigint('contact_id', { mode: 'number' })
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    /** The last step claimed for this person (1-based). */
    step: bigint('step', { mode: 'number' }).notNull(),
    /** When step + 1 is due (ms); null when nothing is due (finished, stopped, or in flight). */
    nextDueAt: bigint('next_due_at', { mode: 'number' }),
    stopReason: text('stop_reason', { enum: sequenceStopReasons }),
    stoppedAt: bigint('stopped_at', { mode: 'number' }),
    /** The ledger row of the last step (its Message-ID threads the next one, its account sends it). */
    // No foreign key (and so no index to keep it): ledger rows go only with their campaign, which
    // takes these rows with it; every step's claim and sent mark would otherwise write that index.
    lastSendId: bigint('last_send_id', { mode: 'number' }),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.contactId] }),
    // Who is due now, per campaign: only waiting people are in it.
    index('sequence_people_due').on(t.campaignId, t.nextDueAt).where(sql`${t.nextDueAt} IS NOT NULL`),
    // Stops by contact (a reply, a bounce, an unsubscribe); also keeps ON DELETE CASCADE cheap.
    index('sequence_people_contact').on(t.contactId),
    check(
      'sequence_people_stop_check',
      sql`${t.stopReason} IS NULL OR ${t.stopReason} in ('replied','bounced','complained','unsubscribed','left_audience','cancelled','stopped')`,
    ),
  ],
);

/** Per sending identity (SMTP account): when it was first used (warm-up day 1) and its health. */
export const smtpAccounts = pgTable('smtp_accounts', {
  /** A stable key for the account (host, port and user; never the password). */
  key: text('key').primaryKey(),
  firstUsedAt: bigint('first_used_at', { mode: 'number' }),
  consecutiveFailures: bigint('consecutive_failures', { mode: 'number' }).notNull().default(0),
  /** Skipped until then after repeated failures. */
  skipUntil: bigint('skip_until', { mode: 'number' }),
  lastError: text('last_error'),
});

/**
 * Postgres only: messages each capped sending identity took on a UTC day (`day`: its start, ms),
 * counted by every instance sharing the database, so a daily cap holds across the cluster. A row
 * starts from the ledger's count when it is first needed (see db/pg/identity-store.ts).
 */
export const identityDays = pgTable(
  'identity_days',
  {
    account: text('account').notNull(),
    day: bigint('day', { mode: 'number' }).notNull(),
    used: integer('used').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.day] })],
);
