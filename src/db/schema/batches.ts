/** Batches, their contacts and what is kept per contact or address (history, suppressions, validation). */
import { sql } from 'drizzle-orm';
import { blob, check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import {
  batchEventKinds,
  batchSources,
  batchStatuses,
  contactInterests,
  contactStatuses,
  scheduledActivationStates,
  suppressionReasons,
  validationResults,
  validationRunStatuses,
} from '../../core/vocabulary.js';

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
    /** What a person decided after the contact replied (null: nobody decided); see core/mailbox. */
    interest: text('interest', { enum: contactInterests }),
  },
  (t) => [
    uniqueIndex('contacts_email').on(t.email),
    index('contacts_batch').on(t.batchId, t.id),
    index('contacts_batch_status').on(t.batchId, t.status, t.id),
    check(
      'contacts_status_check',
      sql`${t.status} in ('active','inactive','replied','bounced','unsubscribed','complained')`,
    ),
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
    check(
      'suppressions_reason_check',
      sql`${t.reason} in ('bounced','unsubscribed','deleted','manual','complained','soft_bounced')`,
    ),
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
 * RETENTION_DAYS: when an inactive batch was last proposed to people for deletion, so it is
 * proposed once per period; its row goes with the batch.
 */
export const retentionProposals = sqliteTable('retention_proposals', {
  batchId: text('batch_id')
    .primaryKey()
    .references(() => batches.id, { onDelete: 'cascade' }),
  proposedAt: integer('proposed_at').notNull(),
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
