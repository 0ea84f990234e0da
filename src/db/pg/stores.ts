import type { Stores } from '../../core/stores.js';
import { PgAudienceStore } from './audience-store.js';
import { PgBackupStore } from './backup-store.js';
import { PgBatchStore } from './batch-store.js';
import { PgCampaignStore } from './campaign-store.js';
import type { PgDb } from './client.js';
import { PgContactImportStore } from './contact-import-store.js';
import { PgContactStore } from './contact-store.js';
import { PgHealthStore } from './health-store.js';
import { PgInboxStore } from './inbox-store.js';
import { PgMailboxStore } from './mailbox-store.js';
import { PgPeopleStore } from './people-store.js';
import { PgReportStore } from './report-store.js';
import { PgRetentionStore } from './retention-store.js';
import { PgScheduledActivationStore } from './scheduled-activation-store.js';
import { PgSendStore } from './send-store.js';
import { PgSequenceStore } from './sequence-store.js';
import { PgSettingsStore } from './settings-store.js';
import { PgSuppressionStore } from './suppression-store.js';
import { PgUnsubscribeStore } from './unsubscribe-store.js';
import { PgValidationStore } from './validation-store.js';
import { PgWebhookStore } from './webhook-store.js';

/**
 * Every store over one Postgres pool (DATABASE_URL): the same interfaces as db/sqlite/stores.ts.
 * No counting or report threads: a query runs in the server's process, not on the event loop, so
 * figures are counted exactly at every call. With `instance`, what the stores claim (ledger rows,
 * Slack files, importing batches, validation runs) is that instance's, and the sweeps take over
 * only rows of instances no longer alive; without it (tests building stores alone), claims name
 * no instance and any sweep takes them.
 */
export function pgStores(db: PgDb, options: { instance?: { readonly id: string } } = {}): Stores {
  const instance = options.instance ?? null;
  return {
    batches: new PgBatchStore(db, instance),
    scheduledActivations: new PgScheduledActivationStore(db),
    retention: new PgRetentionStore(db),
    campaigns: new PgCampaignStore(db),
    sequences: new PgSequenceStore(db),
    unsubscribes: new PgUnsubscribeStore(db),
    settings: new PgSettingsStore(db),
    sends: new PgSendStore(db, instance),
    audience: new PgAudienceStore(db),
    contacts: new PgContactStore(db),
    validation: new PgValidationStore(db, instance),
    health: new PgHealthStore(db),
    contactImports: new PgContactImportStore(db),
    suppressions: new PgSuppressionStore(db),
    people: new PgPeopleStore(db),
    inbox: new PgInboxStore(db, instance),
    mailbox: new PgMailboxStore(db),
    webhooks: new PgWebhookStore(db),
    reports: new PgReportStore(db),
    backup: new PgBackupStore(),
  };
}
