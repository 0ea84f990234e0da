import type { Config } from '../config.js';
import { SqliteAudienceStore } from '../db/sqlite/audience-store.js';
import { SqliteBatchStore } from '../db/sqlite/batch-store.js';
import { SqliteCampaignStore } from '../db/sqlite/campaign-store.js';
import { SqliteSendStore } from '../db/sqlite/send-store.js';
import { SqliteValidationStore } from '../db/sqlite/validation-store.js';
import type { Mailer } from '../mail/mailer.js';
import { AudienceService } from './audience/audience-service.js';
import { BackupService } from './backup/backup-service.js';
import { BatchService } from './batches/batch-service.js';
import { ScheduledActivations } from './batches/scheduled-activations.js';
import { CampaignService } from './campaigns/campaign-service.js';
import { ProgressService } from './campaigns/progress.js';
import { UnsubscribeService, unsubscribeSecrets } from './campaigns/unsubscribe.js';
import { ContactService } from './contacts/contact-service.js';
import { recordHardBounce } from './contacts/hard-bounce.js';
import { EventHub } from './events.js';
import { ImportService } from './imports/import-service.js';
import { InboxService } from './inbox/inbox-service.js';
import { PeopleService } from './people/people-service.js';
import { RetentionService } from './people/retention.js';
import { ReportService } from './reports/report-service.js';
import { SendEngine } from './sending/send-engine.js';
import { DomainSuppressionService } from './suppression/domain-suppression-service.js';
import type { CoreDeps } from './types.js';
import { ValidatingImportService } from './validation/on-import.js';
import { ValidationService } from './validation/validation-service.js';
import { WebhookOutbox } from './webhooks/webhook-outbox.js';
import { WebhookService } from './webhooks/webhook-service.js';

export type Services = {
  batches: BatchService;
  scheduledActivations: ScheduledActivations;
  contacts: ContactService;
  imports: ImportService;
  audience: AudienceService;
  inbox: InboxService;
  campaigns: CampaignService;
  progress: ProgressService;
  sending: SendEngine;
  unsubscribe: UnsubscribeService;
  events: EventHub;
  backup: BackupService;
  reports: ReportService;
  validation: ValidationService;
  webhooks: WebhookService;
  people: PeopleService;
  retention: RetentionService;
  domainSuppressions: DomainSuppressionService;
};

export type ServiceConfig = Pick<
  Config,
  | 'importMaxBytes'
  | 'importIdleTimeoutMs'
  | 'importQueueTimeoutMs'
  | 'mail'
  | 'campaigns'
  | 'databasePath'
  | 'backup'
  | 'validation'
  | 'approval'
  | 'webhooks'
>;

/** Retry delays after a 4xx or a dropped connection: 1 min, 10 min, then 1 h. */
export const retryDelaysMs = [60_000, 600_000, 3_600_000];

/** Builds every core service over the same database, logger and clock, and the one send engine. */
export function createServices(coreDeps: CoreDeps, config: ServiceConfig, mailer: Mailer): Services {
  const webhooks = new WebhookService(coreDeps, config.webhooks);
  // Every service records its webhooks through deps.webhooks (absent without WEBHOOK_URLS).
  const deps: CoreDeps =
    config.webhooks.urls.length > 0
      ? { ...coreDeps, webhooks: new WebhookOutbox(config.webhooks.urls, () => webhooks.kick()) }
      : coreDeps;
  const events = new EventHub();
  const secrets = unsubscribeSecrets(deps, config.mail.unsubscribeSecret);
  const audience = new AudienceService(new SqliteAudienceStore(deps.db.$client));
  const campaigns = new CampaignService(
    deps,
    {
      defaultFrom: config.mail.from,
      postalAddress: config.mail.postalAddress,
      approvalThreshold: config.approval.threshold,
    },
    new SqliteCampaignStore(deps.db),
    audience,
  );
  const sending = new SendEngine(
    {
      log: deps.log,
      clock: deps.clock,
      mailer,
      store: new SqliteSendStore(deps.db.$client),
      campaigns: campaigns.machine,
      audience,
      bounces: (bounce, settleLedger) => recordHardBounce(deps, bounce, settleLedger),
    },
    {
      publicUrl: config.mail.publicUrl,
      postalAddress: config.mail.postalAddress ?? '',
      unsubscribeMailto: config.mail.unsubscribeMailto,
      unsubscribeSecrets: secrets,
      missedGraceMs: config.campaigns.missedGraceMs,
      bouncePause: config.campaigns.bouncePause,
      maxAttempts: 3,
      retryDelaysMs,
      concurrency: config.mail.maxConnections,
      runBudgetMs: 50_000,
      approvalThreshold: config.approval.threshold,
    },
    (e) => events.emit(e),
  );
  const batches = new BatchService(deps, new SqliteBatchStore(deps.db));
  const v = config.validation;
  const validation = new ValidationService(
    deps,
    {
      servers: v.dnsServers,
      concurrency: v.concurrency,
      timeoutMs: v.timeoutMs,
      probeDomains: v.probeDomains,
    },
    new SqliteValidationStore(deps.db),
    batches,
  );
  const importLimits = {
    maxBytes: config.importMaxBytes,
    idleTimeoutMs: config.importIdleTimeoutMs,
    queueTimeoutMs: config.importQueueTimeoutMs,
  };
  const services: Services = {
    batches,
    scheduledActivations: new ScheduledActivations(deps, batches, (e) => events.emit(e)),
    contacts: new ContactService(deps),
    imports: v.onImport
      ? new ValidatingImportService(deps, importLimits, validation)
      : new ImportService(deps, importLimits, batches),
    audience,
    inbox: new InboxService(deps),
    campaigns,
    sending,
    unsubscribe: new UnsubscribeService(deps, secrets),
    reports: new ReportService(deps, batches, config.databasePath),
    events,
    backup: new BackupService(deps, { databasePath: config.databasePath, ...config.backup }, (e) =>
      events.emit(e),
    ),
    validation,
    people: new PeopleService(deps),
    retention: new RetentionService(deps, batches),
    webhooks,
    domainSuppressions: new DomainSuppressionService(deps),
    // Reads the campaigns and the audience of this same object (built above).
    progress: new ProgressService(deps, {
      get campaigns() {
        return services.campaigns;
      },
      get audience() {
        return services.audience;
      },
    }),
  };
  return services;
}
