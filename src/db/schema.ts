/**
 * The database schema (drizzle), one file per part; drizzle-kit reads this file
 * (drizzle.config.ts) and every store imports its tables from here.
 */
export * from './schema/app.js';
export * from './schema/batches.js';
export * from './schema/campaigns.js';
export * from './schema/mailbox.js';
