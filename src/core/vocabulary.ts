/**
 * The words core speaks in: who acted, and every status and kind a row can hold. Transports and
 * db/ read them from here (core/types.ts re-exports them). The schema (db/schema.ts) builds its
 * enum columns from these lists and its CHECK constraints spell the same values out, so changing a
 * list needs a migration (npx drizzle-kit generate).
 */

/** Who did something: a Slack user id, `api`, `cli` or `system`. */
export type Actor = string;

export const batchSources = ['slack', 'api', 'cli', 'legacy'] as const;
export type BatchSource = (typeof batchSources)[number];

/** `importing` is a batch whose rows are still arriving; a start-up sweep removes any left by a crash. */
export const batchStatuses = ['importing', 'active', 'inactive'] as const;
export type BatchStatus = (typeof batchStatuses)[number];

export const batchEventKinds = [
  'imported',
  'activated',
  'deactivated',
  'included_invalid_domains',
  'excluded_invalid_domains',
] as const;
export type BatchEventKind = (typeof batchEventKinds)[number];

/** Least to most restrictive: merging duplicates keeps the later one (db/legacy-contacts.ts ranks by it). */
export const contactStatuses = [
  'active',
  'inactive',
  'replied',
  'bounced',
  'unsubscribed',
  'complained',
] as const;
export type ContactStatus = (typeof contactStatuses)[number];

export const suppressionReasons = [
  'bounced',
  'unsubscribed',
  'deleted',
  'manual',
  'complained',
  'soft_bounced',
] as const;
export type SuppressionReason = (typeof suppressionReasons)[number];

/**
 * A bulk validation's verdict per contact: `valid` (syntax and a domain that receives mail),
 * `role` (info@, sales@…), `disposable` (a throwaway-mail domain), `no_mail_domain` (no MX and no
 * A record: excluded from sends unless an admin includes them), `unknown` (DNS did not answer).
 */
export const validationResults = ['valid', 'role', 'disposable', 'no_mail_domain', 'unknown'] as const;
export type ValidationResult = (typeof validationResults)[number];

/** Zero contacts under every verdict. */
export const zeroCounts = (): Record<ValidationResult, number> => ({
  valid: 0,
  role: 0,
  disposable: 0,
  no_mail_domain: 0,
  unknown: 0,
});

/** A bulk validation run: `running` (at most one per batch), then `finished` or `dns_unavailable`. */
export const validationRunStatuses = ['running', 'finished', 'dns_unavailable'] as const;
export type ValidationRunStatus = (typeof validationRunStatuses)[number];

export const scheduledActivationStates = ['pending', 'applied', 'cancelled', 'failed'] as const;
export type ScheduledActivationState = (typeof scheduledActivationStates)[number];

/** A remote file taken for import (e.g. a Slack upload): claimed once, then imported or failed. */
export const fileImportStates = ['claimed', 'imported', 'failed'] as const;
export type FileImportState = (typeof fileImportStates)[number];

export const campaignStatuses = [
  'draft',
  'scheduled',
  'sending',
  'paused',
  /** Its send would have started while a deliverability check failed: waits for an admin's "send anyway". */
  'held',
  'completed',
  'cancelled',
] as const;
export type CampaignStatus = (typeof campaignStatuses)[number];

/** A send ledger row: `claimed` before the SMTP call, settled after it; `unknown` if a crash left it claimed. */
export const sendStatuses = ['claimed', 'sent', 'retry', 'failed', 'bounced', 'unknown'] as const;
export type SendStatus = (typeof sendStatuses)[number];

export const webhookDeliveryStates = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryState = (typeof webhookDeliveryStates)[number];

/** What a person decided about a contact who replied (the reply notice's buttons). */
export const contactInterests = ['interested', 'not_interested'] as const;
export type ContactInterest = (typeof contactInterests)[number];

/**
 * What a message read from a mailbox (INBOX_URL) is: a human `reply`, a `bounce` (a DSN or an
 * MTA's text), a `complaint` (ARF feedback report), an `auto_reply` (out of office, RFC 3834), a
 * `delivery_report` (a delayed or successful delivery notice: no effect), or `unknown`.
 */
export const inboxMessageKinds = [
  'reply',
  'bounce',
  'complaint',
  'auto_reply',
  'delivery_report',
  'unknown',
] as const;
export type InboxMessageKind = (typeof inboxMessageKinds)[number];

/**
 * Why a person's sequence (a campaign's follow-up steps) stopped before its last step: a human
 * reply, a hard bounce, a complaint, an unsubscribe, the contact leaving the audience otherwise
 * (status, suppression, batch), the campaign cancelled, or a person's "Stop sequence".
 */
export const sequenceStopReasons = [
  'replied',
  'bounced',
  'complained',
  'unsubscribed',
  'left_audience',
  'cancelled',
  'stopped',
] as const;
export type SequenceStopReason = (typeof sequenceStopReasons)[number];

/**
 * What a campaign's history records (`campaign_events`, GET /campaigns/{id} → history): every
 * status change the state machine makes, and the admin decisions on it (`sent_anyway`: released
 * from a doctor hold).
 */
export const campaignEventKinds = [
  'created',
  'scheduled',
  'held',
  'sent_anyway',
  'started',
  'paused',
  'resumed',
  'confirmed',
  'approved',
  'completed',
  'cancelled',
] as const;
export type CampaignEventKind = (typeof campaignEventKinds)[number];
