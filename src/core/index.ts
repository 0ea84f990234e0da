import type { Config } from '../config.js';
import type { Mailer } from '../mail/mailer.js';
import { pacedRatePerMinute } from '../mail/pacing.js';
import { AudienceService } from './audience/audience-service.js';
import { BackupService } from './backup/backup-service.js';
import { BatchService } from './batches/batch-service.js';
import { RetentionService } from './batches/retention.js';
import { ScheduledActivations } from './batches/scheduled-activations.js';
import { CampaignService } from './campaigns/campaign-service.js';
import { DoctorHold } from './campaigns/held.js';
import { ProgressService } from './campaigns/progress.js';
import { SequenceService } from './campaigns/sequence-service.js';
import { UnsubscribeService } from './campaigns/unsubscribe.js';
import { UnsubscribeKeys } from './campaigns/unsubscribe-keys.js';
import { ContactService } from './contacts/contact-service.js';
import { hardBounceRule } from './contacts/hard-bounce.js';
import type { DoctorService } from './deliverability/doctor.js';
import { createDoctor } from './deliverability/settings.js';
import { EventHub } from './events.js';
import { ImportService } from './imports/import-service.js';
import { InboxService } from './inbox/inbox-service.js';
import { classifyMessage } from './mailbox/classify/index.js';
import { complaintPauser } from './mailbox/complaint-pause.js';
import { MailboxService, mailboxSettings } from './mailbox/mailbox-service.js';
import { PeopleService } from './people/people-service.js';
import { ReportService } from './reports/report-service.js';
import { SendEngine } from './sending/send-engine.js';
import type { Stores } from './stores.js';
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
  /** The mailbox (INBOX_URL): replies, bounces, complaints read back (core/mailbox). */
  mailbox: MailboxService;
  campaigns: CampaignService;
  progress: ProgressService;
  /** The people of campaigns' sequences: the list by state, and "Stop sequence". */
  sequences: SequenceService;
  sending: SendEngine;
  unsubscribe: UnsubscribeService;
  events: EventHub;
  backup: BackupService;
  reports: ReportService;
  validation: ValidationService;
  /** The domain doctor: SPF, DKIM, DMARC, MX of each From domain, and the unsubscribe page, postal address, inbox. */
  doctor: DoctorService;
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
  | 'backup'
  | 'validation'
  | 'approval'
  | 'webhooks'
  | 'inbox'
>;

/** Retry delays after a 4xx or a dropped connection: 1 min, 10 min, then 1 h. */
export const retryDelaysMs = [60_000, 600_000, 3_600_000];

/** Builds every core service over the same stores, logger and clock, and the one send engine. */
export function createServices(
  coreDeps: CoreDeps,
  stores: Stores,
  config: ServiceConfig,
  mailer: Mailer,
): Services {
  const webhooks = new WebhookService(coreDeps, config.webhooks, stores.webhooks);
  // Every service records its webhooks through deps.webhooks (absent without WEBHOOK_URLS).
  const deps: CoreDeps =
    config.webhooks.urls.length > 0
      ? { ...coreDeps, webhooks: new WebhookOutbox(config.webhooks.urls, () => webhooks.kick()) }
      : coreDeps;
  const events = new EventHub();
  const unsubscribeKeys = new UnsubscribeKeys(stores.settings, config.mail.unsubscribeSecret);
  const audience = new AudienceService(stores.audience);
  const doctor = createDoctor(deps, config);
  // Only mail that leaves the machine is held (the outbox harms no domain); the Slack message is told.
  const hold = new DoctorHold(
    doctor,
    config.campaigns.holdOnDoctor && mailer.kind === 'smtp',
    deps.log,
    (id) => events.emit({ type: 'progress', campaignId: id }),
  );
  const campaigns = new CampaignService(
    deps,
    {
      defaultFrom: config.mail.from,
      postalAddress: config.mail.postalAddress,
      approvalThreshold: config.approval.threshold,
    },
    stores.campaigns,
    audience,
    hold,
  );
  const sending = new SendEngine(
    {
      log: deps.log,
      clock: deps.clock,
      mailer,
      store: stores.sends,
      campaigns: campaigns.machine,
      audience,
      bounces: hardBounceRule(stores.suppressions, deps.webhooks),
    },
    {
      publicUrl: config.mail.publicUrl,
      postalAddress: config.mail.postalAddress ?? '',
      unsubscribeMailto: config.mail.unsubscribeMailto,
      bounceAddress: config.mail.bounceAddress,
      unsubscribeKey: () => unsubscribeKeys.signing(),
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
  const batches = new BatchService(deps, stores.batches);
  const v = config.validation;
  const validation = new ValidationService(
    deps,
    {
      servers: v.dnsServers,
      concurrency: v.concurrency,
      timeoutMs: v.timeoutMs,
      probeDomains: v.probeDomains,
    },
    stores.validation,
    batches,
  );
  const importLimits = {
    maxBytes: config.importMaxBytes,
    idleTimeoutMs: config.importIdleTimeoutMs,
    queueTimeoutMs: config.importQueueTimeoutMs,
  };
  const services: Services = {
    batches,
    scheduledActivations: new ScheduledActivations(deps, stores.scheduledActivations, batches, (e) =>
      events.emit(e),
    ),
    contacts: new ContactService(deps, stores.contacts, stores.suppressions),
    imports: v.onImport
      ? new ValidatingImportService(deps, importLimits, stores.contactImports, batches, validation)
      : new ImportService(deps, importLimits, stores.contactImports, batches),
    audience,
    inbox: new InboxService(deps, stores.inbox),
    mailbox: new MailboxService(
      {
        ...deps,
        store: stores.mailbox,
        keys: unsubscribeKeys,
        campaigns: complaintPauser(campaigns.machine),
        classify: classifyMessage,
        emit: (e) => events.emit(e),
      },
      mailboxSettings(config.mail, config.campaigns.softBounceLimit),
    ),
    campaigns,
    sending,
    unsubscribe: new UnsubscribeService(deps, stores.unsubscribes, unsubscribeKeys),
    reports: new ReportService(deps, stores.reports, batches),
    events,
    backup: new BackupService(deps, config.backup, stores.backup, (e) => events.emit(e)),
    validation,
    people: new PeopleService(deps, stores.people),
    sequences: new SequenceService(deps, stores.sequences, stores.campaigns),
    retention: new RetentionService(deps, stores.retention, batches),
    webhooks,
    domainSuppressions: new DomainSuppressionService(deps, stores.suppressions),
    doctor,
    // Reads the campaigns and the audience of this same object (built above).
    progress: new ProgressService(
      deps,
      {
        get campaigns() {
          return services.campaigns;
        },
        get audience() {
          return services.audience;
        },
      },
      pacedRatePerMinute(
        config.mail.accounts.length > 0
          ? config.mail.accounts.map((a) => ({ gap: a.gap ?? null }))
          : [{ gap: config.mail.sendGap ?? null }],
        config.mail.ratePerMinute,
        config.campaigns.tickMs,
      ),
      () =>
        services.doctor.known().map((c) => ({
          domain: c.domain,
          title: c.title,
          result: c.result === 'fail' ? 'fail' : 'warn',
          detail: c.detail,
        })),
    ),
  };
  return services;
}
