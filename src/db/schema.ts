import { sql } from 'drizzle-orm';
import { blob, check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const batchSources = ['slack', 'api', 'cli', 'legacy'] as const;
/** `importing` is a batch whose rows are still arriving; a start-up sweep removes any left by a crash. */
export const batchStatuses = ['importing', 'active', 'inactive'] as const;
export const contactStatuses = ['active', 'inactive', 'bounced', 'unsubscribed'] as const;
export const suppressionReasons = ['bounced', 'unsubscribed', 'deleted', 'manual'] as const;
export const batchEventKinds = ['imported', 'activated', 'deactivated'] as const;

export type BatchSource = (typeof batchSources)[number];
export type BatchStatus = (typeof batchStatuses)[number];
export type ContactStatus = (typeof contactStatuses)[number];
export type SuppressionReason = (typeof suppressionReasons)[number];
export type BatchEventKind = (typeof batchEventKinds)[number];

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

export const fileImportStates = ['claimed', 'imported', 'failed'] as const;
export type FileImportState = (typeof fileImportStates)[number];

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
