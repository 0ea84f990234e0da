import type { Stores } from '../../core/stores.js';
import type { Db } from '../client.js';
import { SqliteAudienceStore } from './audience-store.js';
import { SqliteBackupStore } from './backup-store.js';
import { SqliteBatchStore } from './batch-store.js';
import { SqliteCampaignStore } from './campaign-store.js';
import { SqliteContactImportStore } from './contact-import-store.js';
import { SqliteContactStore } from './contact-store.js';
import { SqliteHealthStore } from './health-store.js';
import { SqliteInboxStore } from './inbox-store.js';
import { SqlitePeopleStore } from './people-store.js';
import { SqliteReportStore } from './report-store.js';
import { SqliteRetentionStore } from './retention-store.js';
import { SqliteScheduledActivationStore } from './scheduled-activation-store.js';
import { SqliteSendStore } from './send-store.js';
import { SqliteSettingsStore } from './settings-store.js';
import { SqliteSuppressionStore } from './suppression-store.js';
import { SqliteUnsubscribeStore } from './unsubscribe-store.js';
import { SqliteValidationStore } from './validation-store.js';
import { SqliteWebhookStore } from './webhook-store.js';

/**
 * Every store over one SQLite connection. `reportsOffThread`: full batch reports are counted in a
 * worker thread on a connection of its own (the app; tests that build many reports leave it off).
 */
export function sqliteStores(db: Db, options: { reportsOffThread?: boolean } = {}): Stores {
  return {
    batches: new SqliteBatchStore(db),
    scheduledActivations: new SqliteScheduledActivationStore(db),
    retention: new SqliteRetentionStore(db),
    campaigns: new SqliteCampaignStore(db),
    unsubscribes: new SqliteUnsubscribeStore(db),
    settings: new SqliteSettingsStore(db),
    sends: new SqliteSendStore(db.$client),
    audience: new SqliteAudienceStore(db.$client),
    contacts: new SqliteContactStore(db),
    validation: new SqliteValidationStore(db),
    health: new SqliteHealthStore(db.$client),
    contactImports: new SqliteContactImportStore(db.$client),
    suppressions: new SqliteSuppressionStore(db),
    people: new SqlitePeopleStore(db),
    inbox: new SqliteInboxStore(db),
    webhooks: new SqliteWebhookStore(db),
    reports: new SqliteReportStore(db.$client, { offThread: options.reportsOffThread }),
    // The backup copies the file this connection opened, from a worker thread.
    backup: new SqliteBackupStore(db.$client.name),
  };
}
