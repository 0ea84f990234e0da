import { sql } from 'drizzle-orm';
import { blob, check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

import {
  batchEventKinds,
  batchSources,
  batchStatuses,
  campaignStatuses,
  contactStatuses,
  fileImportStates,
  scheduledActivationStates,
  sendStatuses,
  suppressionReasons,
  validationResults,
  validationRunStatuses,
  webhookDeliveryStates,
} from '../core/vocabulary.js';

export const batches = sqliteTable(
  'batches',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    source: text('source', { enum: batchSources }).notNull(),
    status: text('status', { enum: batchStatuses }).notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
    activatedAt: integer('activated_at'),
    deactivatedAt: integer('deactivated_at'),
    /** JSON of the ImportReport; null while importing. */
    report: text('report'),
    fileSha256: text('file_sha256'),
    /** Kept in step with the contacts table inside the same transactions (imports, deletes). */
    contactCount: integer('contact_count').notNull().default(0),
    /** The batch that was active when this one was imported (for "undo"). */
    replacedBatchId: text('replaced_batch_id'),
    /** An admin chose to mail this batch's contacts whose domain does not receive mail. */
    includeInvalidDomains: integer('include_invalid_domains', { mode: 'boolean' }).notNull().default(false),
    /**
     * While importing: the process filling it (`host:pid:token`), so a start-up sweep in another
     * process (the CLI next to the app) leaves a live import alone. Null on older rows.
     */
    importer: text('importer'),
  },
  (t) => [
    uniqueIndex('batches_one_active').on(t.status).where(sql`status = 'active'`),
    index('batches_created').on(t.createdAt, t.id),
    index('batches_status_created').on(t.status, t.createdAt, t.id),
    index('batches_sha256').on(t.fileSha256),
    check('batches_source_check', sql`${t.source} in ('slack','api','cli','legacy')`),
    check('batches_status_check', sql`${t.status} in ('importing','active','inactive')`),
  ],
);

export const contacts = sqliteTable(
  'contacts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    email: text('email').notNull(),
    /** SHA-256 of the normalized address: joins against suppressions without keeping addresses there. */
    emailHash: blob('email_hash', { mode: 'buffer' }).notNull(),
    name: text('name'),
    company: text('company'),
    position: text('position'),
    source: text('source'),
    status: text('status', { enum: contactStatuses }).notNull().default('active'),
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /**
     * The last bulk validation's verdict (null: not checked yet); see core/validation. No CHECK
     * here: adding one would make the migration rebuild the contacts table.
     */
    validation: text('validation', { enum: validationResults }),
    validatedAt: integer('validated_at'),
  },
  (t) => [
    uniqueIndex('contacts_email').on(t.email),
    index('contacts_batch').on(t.batchId, t.id),
    index('contacts_batch_status').on(t.batchId, t.status, t.id),
    check('contacts_status_check', sql`${t.status} in ('active','inactive','bounced','unsubscribed')`),
  ],
);

/** Addresses that must never be mailed again; only a hash is kept, so it survives deletion of the contact. */
export const suppressions = sqliteTable(
  'suppressions',
  {
    emailHash: blob('email_hash', { mode: 'buffer' }).primaryKey(),
    reason: text('reason', { enum: suppressionReasons }).notNull(),
    actor: text('actor').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    check('suppressions_reason_check', sql`${t.reason} in ('bounced','unsubscribed','deleted','manual')`),
  ],
);

export const contactHistory = sqliteTable(
  'contact_history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Null once the contact is deleted: the entry stays, without the person. */
    contactId: integer('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason'),
    at: integer('at').notNull(),
  },
  (t) => [index('contact_history_contact').on(t.contactId, t.at)],
);

export const batchEvents = sqliteTable(
  'batch_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: batchEventKinds }).notNull(),
    actor: text('actor').notNull(),
    reason: text('reason'),
    at: integer('at').notNull(),
  },
  (t) => [index('batch_events_batch').on(t.batchId, t.at)],
);

/**
 * `/batches activate <id> at <time>`: applied by the scheduler within a minute of `at`. At most
 * one pending per batch (scheduling again replaces it); kept after it is applied or cancelled.
 */
export const scheduledActivations = sqliteTable(
  'scheduled_activations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    state: text('state', { enum: scheduledActivationStates }).notNull().default('pending'),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
    /** When and by whom it was applied or cancelled. */
    doneAt: integer('done_at'),
    doneBy: text('done_by'),
    /** Why it failed or was cancelled. */
    note: text('note'),
  },
  (t) => [
    uniqueIndex('scheduled_activations_one_pending').on(t.batchId).where(sql`state = 'pending'`),
    index('scheduled_activations_due').on(t.state, t.at),
    check('scheduled_activations_state_check', sql`${t.state} in ('pending','applied','cancelled','failed')`),
  ],
);

/**
 * One row per remote file (e.g. `slack:F0123`) ever taken for import: the unique key makes each
 * file import once across retries, double deliveries and restarts.
 */
export const fileImports = sqliteTable(
  'file_imports',
  {
    externalId: text('external_id').primaryKey(),
    state: text('state', { enum: fileImportStates }).notNull(),
    batchId: text('batch_id').references(() => batches.id, { onDelete: 'set null' }),
    actor: text('actor').notNull(),
    /** Where to answer (e.g. Slack channel and thread), as JSON the transport owns. */
    replyTo: text('reply_to'),
    errorCode: text('error_code'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('file_imports_state').on(t.state),
    check('file_imports_state_check', sql`${t.state} in ('claimed','imported','failed')`),
  ],
);

/** Ids of inbound events already handled (Slack event_id), so a redelivery does nothing. */
export const processedEvents = sqliteTable(
  'processed_events',
  {
    eventId: text('event_id').primaryKey(),
    at: integer('at').notNull(),
  },
  (t) => [index('processed_events_at').on(t.at)],
);

export const campaigns = sqliteTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    html: text('html'),
    fromAddress: text('from_address').notNull(),
    /** One-off send time (ms); with neither sendAt nor cron the campaign is a draft. */
    sendAt: integer('send_at'),
    cron: text('cron'),
    dailyLimit: integer('daily_limit'),
    ratePerMinute: integer('rate_per_minute'),
    /** JSON SendWindow {days, start, end, timezone}, or null for any time. */
    sendWindow: text('send_window'),
    timezone: text('timezone').notNull().default('UTC'),
    status: text('status', { enum: campaignStatuses }).notNull(),
    statusReason: text('status_reason'),
    /** When the next run may start (the send time, or the next cron occurrence). */
    nextRunAt: integer('next_run_at'),
    /** Set when a run was missed by more than the grace period: a person must confirm. */
    awaitingConfirmation: integer('awaiting_confirmation', { mode: 'boolean' }).notNull().default(false),
    /** Runs so far (a one-off campaign has one; a drip one per cron occurrence). */
    runCount: integer('run_count').notNull().default(0),
    runStartedAt: integer('run_started_at'),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    startedAt: integer('started_at'),
    completedAt: integer('completed_at'),
    /** Where the transport shows progress (e.g. a Slack message), JSON it owns. */
    progressRef: text('progress_ref'),
    /**
     * Two-person rule (APPROVAL_THRESHOLD): when set, the campaign may not start until a second
     * admin, not `createdBy`, approves it (approvedBy/approvedAt).
     */
    approvalRequiredAt: integer('approval_required_at'),
    approvedBy: text('approved_by'),
    approvedAt: integer('approved_at'),
  },
  (t) => [
    index('campaigns_status_next').on(t.status, t.nextRunAt),
    index('campaigns_created').on(t.createdAt, t.id),
    check(
      'campaigns_status_check',
      sql`${t.status} in ('draft','scheduled','sending','paused','completed','cancelled')`,
    ),
  ],
);

/**
 * The send ledger: a row is claimed before the SMTP call and settled after it, so each
 * (campaign, contact) gets at most one message; a row left `claimed` by a crash becomes `unknown`.
 */
export const sends = sqliteTable(
  'sends',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    contactId: integer('contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    emailHash: blob('email_hash', { mode: 'buffer' }).notNull(),
    run: integer('run').notNull(),
    status: text('status', { enum: sendStatuses }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at'),
    messageId: text('message_id'),
    /** The last SMTP answer (code and text), never the address. */
    response: text('response'),
    claimedAt: integer('claimed_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    unsubscribedAt: integer('unsubscribed_at'),
    /** The sending identity (SMTP account key) that took the message; null with a single transport. */
    account: text('account'),
  },
  (t) => [
    uniqueIndex('sends_campaign_contact').on(t.campaignId, t.contactId),
    // Per-contact history and reports by batch; also keeps ON DELETE SET NULL from scanning sends.
    index('sends_contact').on(t.contactId),
    // Per-account daily caps: messages an identity took since the start of the day.
    index('sends_account_claimed').on(t.account, t.claimedAt),
    index('sends_campaign_status').on(t.campaignId, t.status, t.nextAttemptAt),
    index('sends_campaign_run').on(t.campaignId, t.run),
    check('sends_status_check', sql`${t.status} in ('claimed','sent','retry','failed','bounced','unknown')`),
  ],
);

/**
 * Whole domains never to be mailed: `acme.com` (that domain) or `*.acme.com` (its subdomains and
 * itself). Checked at import; matching contacts get hashed suppressions when the rule is added.
 */
export const domainSuppressions = sqliteTable('domain_suppressions', {
  pattern: text('pattern').primaryKey(),
  actor: text('actor').notNull(),
  reason: text('reason'),
  createdAt: integer('created_at').notNull(),
});

/**
 * Outgoing webhooks (WEBHOOK_URLS): one row per event per URL, written in the transaction of the
 * change it reports (nothing lost in a crash), delivered and retried with backoff; the delivery log.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    event: text('event').notNull(),
    url: text('url').notNull(),
    /** The JSON body sent (no more personal data than the event needs). */
    payload: text('payload').notNull(),
    state: text('state', { enum: webhookDeliveryStates }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.state, t.nextAttemptAt),
    check('webhook_deliveries_state_check', sql`${t.state} in ('pending','delivered','failed')`),
  ],
);

/** Per sending identity (SMTP account): when it was first used (warm-up day 1) and its health. */
export const smtpAccounts = sqliteTable('smtp_accounts', {
  /** A stable key for the account (host, port and user; never the password). */
  key: text('key').primaryKey(),
  firstUsedAt: integer('first_used_at'),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  /** Skipped until then after repeated failures. */
  skipUntil: integer('skip_until'),
  lastError: text('last_error'),
});

/** Small key/value settings the app keeps (e.g. the generated unsubscribe signing key). */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * Bulk validation runs of a batch (core/validation), numbered by `seq` per batch. A running run
 * keeps its cursor (`after_id`) here, so a restart continues it; at most one runs per batch. Each
 * row also carries the batch's verdict counts as they stand (copied from the previous row when a
 * run starts, updated in each chunk's transaction): the batch's counts are its latest row's.
 */
export const validationRuns = sqliteTable(
  'validation_runs',
  {
    id: text('id').primaryKey(),
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    actor: text('actor').notNull(),
    status: text('status', { enum: validationRunStatuses }).notNull(),
    startedAt: integer('started_at').notNull(),
    /** When it finished or stopped; null while running. */
    endedAt: integer('ended_at'),
    /** Every contact of the batch with an id up to this one has been checked by this run. */
    afterId: integer('after_id').notNull().default(0),
    checked: integer('checked').notNull().default(0),
    /** Why it stopped (dns_unavailable), for people. */
    message: text('message'),
    valid: integer('valid').notNull().default(0),
    role: integer('role').notNull().default(0),
    disposable: integer('disposable').notNull().default(0),
    noMailDomain: integer('no_mail_domain').notNull().default(0),
    unknown: integer('unknown').notNull().default(0),
    /** The batch's contact count the counts were taken at (null: no contact validated yet). */
    countedOf: integer('counted_of'),
    /** When the batch's last complete run finished (carried forward like the counts). */
    validatedAt: integer('validated_at'),
  },
  (t) => [
    uniqueIndex('validation_runs_batch_seq').on(t.batchId, t.seq),
    uniqueIndex('validation_runs_one_running').on(t.batchId).where(sql`status = 'running'`),
    check('validation_runs_status_check', sql`${t.status} in ('running','finished','dns_unavailable')`),
  ],
);
