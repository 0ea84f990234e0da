import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { WebhookOutbox } from './webhooks/webhook-outbox.js';

export * from './vocabulary.js';

/**
 * What every core service is built with; `webhooks` (WEBHOOK_URLS set) records outgoing webhooks
 * in the transaction of the change they report.
 */
export type CoreDeps = { log: Logger; clock: Clock; webhooks?: WebhookOutbox };

export const toIso = (ms: number | null | undefined): string | null =>
  ms == null ? null : new Date(ms).toISOString();
