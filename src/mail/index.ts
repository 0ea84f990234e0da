import type { Logger } from '../logger.js';
import type { Mailer } from './mailer.js';
import { createOutboxMailer } from './outbox.js';
import { createSmtpMailer } from './smtp.js';

export type { Mailer, OutgoingMessage, SentInfo } from './mailer.js';
export { MailError } from './mailer.js';

/** SMTP when a URL is configured, otherwise the outbox folder. */
export function createMailer(opts: {
  smtpUrl?: string;
  outboxDir: string;
  ratePerMinute?: number;
  maxConnections?: number;
  log: Logger;
}): Mailer {
  return opts.smtpUrl
    ? createSmtpMailer({
        url: opts.smtpUrl,
        log: opts.log,
        ...(opts.ratePerMinute ? { ratePerMinute: opts.ratePerMinute } : {}),
        ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
      })
    : createOutboxMailer({ dir: opts.outboxDir, log: opts.log });
}
