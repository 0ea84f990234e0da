/** Batches, their contacts and what is kept per contact or address (history, suppressions, validation). */
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
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
} from '../../../core/vocabulary.js';
import { bytea } from './bytea.js';

export const batches = pgTable(
  'batches',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    source: text('source', { enum: batchSources }).notNull(),
    status: text('status', { enum: batchStatuses }).notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    activatedAt: bigint('activated_at', { mode: 'number' }),
    deactivatedAt: bigint('deactivated_at', { mode: 'number' }),
    /** JSON of the ImportReport; null while importing. */
    report: text('report'),
    fileSha256: text('file_sha256'),
    /** Kept in step with the contacts table inside the same transactions (imports, deletes). */
    contactCount: bigint('contact_count', { mode: 'number' }).notNull().default(0),
    /** The batch that was active when this one was imported (for "undo"). */
    replacedBatchId: text('replaced_batch_id'),
    /** An admin chose to mail this batch's contacts whose domain does not receive mail. */
    includeInvalidDomains: boolean('include_invalid_domains').notNull().default(false),
    /**
     * While importing: the process filling it (`host:pid:token`), so a start-up sweep in another
     * process (the CLI next to the app) leaves a live import alone. Null on older rows.
     */
    importer: text('importer'),
    /**
     * Postgres only: the instance (db/pg/instance.ts) filling an `importing` batch. Another
     * instance's sweep considers the batch only once that one is no longer alive (null: not alive),
     * then applies the importer check above (a CLI import on this host holds no instance).
     */
    importingInstance: text('importing_instance'),
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

export const contacts = pgTable(
  'contacts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    email: text('email').notNull(),
    /** SHA-256 of the normalized address: joins against suppressions without keeping addresses there. */
    emailHash: bytea('email_hash').notNull(),
    name: text('name'),
    company: text('company'),
    position: text('position'),
    source: text('source'),
    status: text('status', { enum: contactStatuses }).notNull().default('active'),
    /**
     * The batch holding the contact: a foreign key to batches.id, ON DELETE CASCADE, kept by
     * triggers (pg migration 0005) rather than declared here. A declared key checks each inserted
     * row on its own, about a third of an import's INSERT; the triggers check each statement's
     * batches once (locking them FOR KEY SHARE as the key did), refuse an UPDATE to a batch that
     * does not exist, and delete a deleted batch's contacts.
     */
    batchId: text('batch_id').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    /**
     * The last bulk validation's verdict (null: not checked yet); see core/validation. No CHECK
     * here: adding one would make the migration rebuild the contacts table.
     */
    validation: text('validation', { enum: validationResults }),
    validatedAt: bigint('validated_at', { mode: 'number' }),
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
export const suppressions = pgTable(
  'suppressions',
  {
    emailHash: bytea('email_hash').primaryKey(),
    reason: text('reason', { enum: suppressionReasons }).notNull(),
    actor: text('actor').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    /**
     * The list's order and page cursor (SQLite's rowid): a page reads the ids after the last one
     * through this index, where counting a position (OFFSET) read every earlier entry again.
     */
    id: bigint('id', { mode: 'number' }).notNull().generatedByDefaultAsIdentity(),
  },
  (t) => [
    uniqueIndex('suppressions_id').on(t.id),
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
export const domainSuppressions = pgTable('domain_suppressions', {
  pattern: text('pattern').primaryKey(),
  actor: text('actor').notNull(),
  reason: text('reason'),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

export const contactHistory = pgTable(
  'contact_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    /** Null once the contact is deleted: the entry stays, without the person. */
    contactId: bigint('contact_id', { mode: 'number' }).references(() => contacts.id, {
      onDelete: 'set null',
    }),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason'),
    at: bigint('at', { mode: 'number' }).notNull(),
  },
  (t) => [index('contact_history_contact').on(t.contactId, t.at)],
);

export const batchEvents = pgTable(
  'batch_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: batchEventKinds }).notNull(),
    actor: text('actor').notNull(),
    reason: text('reason'),
    at: bigint('at', { mode: 'number' }).notNull(),
  },
  (t) => [index('batch_events_batch').on(t.batchId, t.at)],
);

/**
 * `/batches activate <id> at <time>`: applied by the scheduler within a minute of `at`. At most
 * one pending per batch (scheduling again replaces it); kept after it is applied or cancelled.
 */
export const scheduledActivations = pgTable(
  'scheduled_activations',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    at: bigint('at', { mode: 'number' }).notNull(),
    state: text('state', { enum: scheduledActivationStates }).notNull().default('pending'),
    createdBy: text('created_by').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    /** When and by whom it was applied or cancelled. */
    doneAt: bigint('done_at', { mode: 'number' }),
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
export const retentionProposals = pgTable('retention_proposals', {
  batchId: text('batch_id')
    .primaryKey()
    .references(() => batches.id, { onDelete: 'cascade' }),
  proposedAt: bigint('proposed_at', { mode: 'number' }).notNull(),
});

/**
 * Bulk validation runs of a batch (core/validation), numbered by `seq` per batch. A running run
 * keeps its cursor (`after_id`) here, so a restart continues it; at most one runs per batch. Each
 * row also carries the batch's verdict counts as they stand (copied from the previous row when a
 * run starts, updated in each chunk's transaction): the batch's counts are its latest row's.
 */
export const validationRuns = pgTable(
  'validation_runs',
  {
    id: text('id').primaryKey(),
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    actor: text('actor').notNull(),
    status: text('status', { enum: validationRunStatuses }).notNull(),
    startedAt: bigint('started_at', { mode: 'number' }).notNull(),
    /** When it finished or stopped; null while running. */
    endedAt: bigint('ended_at', { mode: 'number' }),
    /** Every contact of the batch with an id up to this one has been checked by this run. */
    afterId: bigint('after_id', { mode: 'number' }).notNull().default(0),
    checked: bigint('checked', { mode: 'number' }).notNull().default(0),
    /** Why it stopped (dns_unavailable), for people. */
    message: text('message'),
    valid: bigint('valid', { mode: 'number' }).notNull().default(0),
    role: bigint('role', { mode: 'number' }).notNull().default(0),
    disposable: bigint('disposable', { mode: 'number' }).notNull().default(0),
    noMailDomain: bigint('no_mail_domain', { mode: 'number' }).notNull().default(0),
    unknown: bigint('unknown', { mode: 'number' }).notNull().default(0),
    /** The batch's contact count the counts were taken at (null: no contact validated yet). */
    countedOf: bigint('counted_of', { mode: 'number' }),
    /** When the batch's last complete run finished (carried forward like the counts). */
    validatedAt: bigint('validated_at', { mode: 'number' }),
    /**
     * Postgres only: the instance (db/pg/instance.ts) carrying a running run on: it started the
     * run or committed its last chunk. Another instance resumes the run only once that one is no
     * longer alive (null: not alive).
     */
    carriedBy: text('carried_by'),
  },
  (t) => [
    uniqueIndex('validation_runs_batch_seq').on(t.batchId, t.seq),
    uniqueIndex('validation_runs_one_running').on(t.batchId).where(sql`status = 'running'`),
    check('validation_runs_status_check', sql`${t.status} in ('running','finished','dns_unavailable')`),
  ],
);
