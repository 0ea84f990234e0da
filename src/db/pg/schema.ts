/** The Postgres schema: the same tables, columns, invariants and indexes as db/schema.ts (SQLite). */
export * from './schema/app.js';
export * from './schema/batches.js';
export * from './schema/campaigns.js';
export * from './schema/mailbox.js';
