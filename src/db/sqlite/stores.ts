import type { Stores } from '../../core/stores.js';
import type { Db } from '../client.js';
import { SqliteAudienceStore } from './audience-store.js';
import { SqliteBackupStore } from './backup-store.js';
import { SqliteBatchStore } from './batch-store.js';
import { SqliteCampaignStore } from './campaign-store.js';
import { SqliteContactImportStore } from './contact-import-store.js';
import { SqliteContactStore } from './contact-store.js';
import type { CountThread } from './count-thread.js';
import { SqliteHealthStore } from './health-store.js';
import { SqliteInboxStore } from './inbox-store.js';
import { SqliteMailboxStore } from './mailbox-store.js';
import { SqlitePeopleStore } from './people-store.js';
import { SqliteReportStore } from './report-store.js';
import { SqliteRetentionStore } from './retention-store.js';
import { SqliteScheduledActivationStore } from './scheduled-activation-store.js';
import { SqliteSendStore } from './send-store.js';
import { SqliteSequenceStore } from './sequence-store.js';
import { SqliteSettingsStore } from './settings-store.js';
import { SqliteSuppressionStore } from './suppression-store.js';
import { SqliteUnsubscribeStore } from './unsubscribe-store.js';
import { SqliteValidationStore } from './validation-store.js';
import { SqliteWebhookStore } from './webhook-store.js';

/**
 * Every store over one SQLite connection. `reportsOffThread`: full batch reports are counted in a
 * worker thread on a connection of its own (the app; tests that build many reports leave it off).
 * `counts`: the audience and campaign figures are counted in that long-lived worker thread (the
 * app starts it with `CountThread.over` and closes it on stop) and a campaign's figures are kept
 * (figure-cache.ts); without it they are counted inline, exact at every call (tests, the CLIs).
 */
export function sqliteStores(
  db: Db,
  options: { reportsOffThread?: boolean; counts?: CountThread | null } = {},
): Stores {
  const counts = options.counts ?? null;
  return {
    batches: new SqliteBatchStore(db),
    scheduledActivations: new SqliteScheduledActivationStore(db),
    retention: new SqliteRetentionStore(db),
    campaigns: new SqliteCampaignStore(db, counts),
    sequences: new SqliteSequenceStore(db),
    unsubscribes: new SqliteUnsubscribeStore(db),
    settings: new SqliteSettingsStore(db),
    sends: new SqliteSendStore(db.$client),
    audience: new SqliteAudienceStore(db.$client, counts),
    contacts: new SqliteContactStore(db),
    validation: new SqliteValidationStore(db),
    health: new SqliteHealthStore(db.$client),
    contactImports: new SqliteContactImportStore(db.$client),
    suppressions: new SqliteSuppressionStore(db),
    people: new SqlitePeopleStore(db),
    inbox: new SqliteInboxStore(db),
    mailbox: new SqliteMailboxStore(db),
    webhooks: new SqliteWebhookStore(db),
    reports: new SqliteReportStore(db.$client, { offThread: options.reportsOffThread }),
    // The backup copies the file this connection opened, from a worker thread.
    backup: new SqliteBackupStore(db.$client.name),
  };
}
