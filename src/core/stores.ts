import type { AudienceStore } from './audience/audience-store.js';
import type { BackupStore } from './backup/backup-store.js';
import type { BatchStore } from './batches/batch-store.js';
import type { RetentionStore } from './batches/retention-store.js';
import type { ScheduledActivationStore } from './batches/scheduled-activation-store.js';
import type { CampaignStore } from './campaigns/campaign-store.js';
import type { SequenceStore } from './campaigns/sequence-store.js';
import type { UnsubscribeStore } from './campaigns/unsubscribe-store.js';
import type { ContactStore } from './contacts/contact-store.js';
import type { HealthStore } from './health.js';
import type { ContactImportStore } from './imports/contact-import-store.js';
import type { InboxStore } from './inbox/inbox-store.js';
import type { MailboxStore } from './mailbox/mailbox-store.js';
import type { PeopleStore } from './people/people-store.js';
import type { ReportStore } from './reports/report-store.js';
import type { SendStore } from './sending/send-store.js';
import type { SettingsStore } from './settings-store.js';
import type { SuppressionStore } from './suppression/suppression-store.js';
import type { ValidationStore } from './validation/validation-store.js';
import type { WebhookStore } from './webhooks/webhook-store.js';

/**
 * The seam to the database: every table is written through one of these (each method one atomic
 * unit of work returning a Promise). The composition root (app.ts, the CLIs, the workers) builds
 * them — db/sqlite/stores.ts for SQLite — and hands them to createServices.
 */
export type Stores = {
  batches: BatchStore;
  scheduledActivations: ScheduledActivationStore;
  retention: RetentionStore;
  campaigns: CampaignStore;
  /** The people of campaigns' sequences (who waits, who stopped). */
  sequences: SequenceStore;
  unsubscribes: UnsubscribeStore;
  settings: SettingsStore;
  sends: SendStore;
  audience: AudienceStore;
  contacts: ContactStore;
  validation: ValidationStore;
  health: HealthStore;
  contactImports: ContactImportStore;
  suppressions: SuppressionStore;
  people: PeopleStore;
  inbox: InboxStore;
  mailbox: MailboxStore;
  webhooks: WebhookStore;
  reports: ReportStore;
  backup: BackupStore;
};
