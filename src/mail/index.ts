import type { Logger } from '../logger.js';
import type { Mailer } from './mailer.js';
import { createOutboxMailer } from './outbox.js';
import { createSmtpMailer } from './smtp.js';

export type { Mailer, MailFailureKind, OutgoingMessage, SentInfo } from './mailer.js';
export { MailError } from './mailer.js';
export { createOutboxMailer } from './outbox.js';
export { createSmtpMailer } from './smtp.js';
export { signUnsubscribeToken, verifyUnsubscribeToken } from './unsubscribe-token.js';

export type MailerOptions = {
  /** SMTP_URL; unset (or empty): nothing leaves the machine, messages go to outboxDir. */
  smtpUrl?: string;
  outboxDir: string;
  ratePerMinute?: number;
  maxConnections?: number;
  log: Logger;
};

/** SMTP when a URL is configured, otherwise the outbox folder. */
export function createMailer(opts: MailerOptions): Mailer {
  if (!opts.smtpUrl) return createOutboxMailer({ dir: opts.outboxDir, log: opts.log });
  return createSmtpMailer({
    url: opts.smtpUrl,
    log: opts.log,
    ...(opts.ratePerMinute ? { ratePerMinute: opts.ratePerMinute } : {}),
    ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
  });
}
