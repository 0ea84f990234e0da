/** The app's own bookkeeping: Slack file imports, handled events, the webhook outbox, settings. */
import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

import { fileImportStates, webhookDeliveryStates } from '../../../core/vocabulary.js';
import { batches } from './batches.js';

/**
 * One row per remote file (e.g. `slack:F0123`) ever taken for import: the unique key makes each
 * file import once across retries, double deliveries and restarts.
 */
export const fileImports = pgTable(
  'file_imports',
  {
    externalId: text('external_id').primaryKey(),
    state: text('state', { enum: fileImportStates }).notNull(),
    batchId: text('batch_id').references(() => batches.id, { onDelete: 'set null' }),
    actor: text('actor').notNull(),
    /** Where to answer (e.g. Slack channel and thread), as JSON the transport owns. */
    replyTo: text('reply_to'),
    errorCode: text('error_code'),
    /**
     * Postgres only: the instance (db/pg/instance.ts) importing the file while it is `claimed`;
     * another instance fails the claim only once that one is no longer alive (null: not alive).
     */
    claimedBy: text('claimed_by'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('file_imports_state').on(t.state),
    check('file_imports_state_check', sql`${t.state} in ('claimed','imported','failed')`),
  ],
);

/** Ids of inbound events already handled (Slack event_id), so a redelivery does nothing. */
export const processedEvents = pgTable(
  'processed_events',
  {
    eventId: text('event_id').primaryKey(),
    at: bigint('at', { mode: 'number' }).notNull(),
  },
  (t) => [index('processed_events_at').on(t.at)],
);

/**
 * Outgoing webhooks (WEBHOOK_URLS): one row per event per URL, written in the transaction of the
 * change it reports (nothing lost in a crash), delivered and retried with backoff; the delivery log.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    event: text('event').notNull(),
    url: text('url').notNull(),
    /** The JSON body sent (no more personal data than the event needs). */
    payload: text('payload').notNull(),
    state: text('state', { enum: webhookDeliveryStates }).notNull().default('pending'),
    attempts: bigint('attempts', { mode: 'number' }).notNull().default(0),
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }),
    lastStatus: bigint('last_status', { mode: 'number' }),
    lastError: text('last_error'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    deliveredAt: bigint('delivered_at', { mode: 'number' }),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.state, t.nextAttemptAt),
    check('webhook_deliveries_state_check', sql`${t.state} in ('pending','delivered','failed')`),
  ],
);

/** Small key/value settings the app keeps (e.g. the generated unsubscribe signing key). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * Postgres only: a periodic task that must run once per period across the instances sharing the
 * database (`period` e.g. the minute or the day it is for): the instance that inserts the row runs
 * it, the others find the key taken.
 */
export const taskRuns = pgTable(
  'task_runs',
  {
    name: text('name').notNull(),
    period: bigint('period', { mode: 'number' }).notNull(),
    instance: text('instance').notNull(),
    at: bigint('at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.period] })],
);
