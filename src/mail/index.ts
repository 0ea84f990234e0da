import type { Logger } from '../logger.js';
import { createIdentityMailer, type IdentityConfig, type IdentityStore } from './identities.js';
import type { Mailer } from './mailer.js';
import { createOutboxMailer } from './outbox.js';
import { createSmtpMailer } from './smtp.js';
import { createThreadMailer } from './smtp-thread.js';

export type { IdentityConfig, IdentityHealth, IdentityStore } from './identities.js';
export { createIdentityMailer } from './identities.js';
export type { IdentityState, Mailer, MailFailureKind, OutgoingMessage, SentInfo } from './mailer.js';
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
  /** Run the nodemailer pools (SMTP_URL, or every SMTP_URLS account) in a worker thread (the app), not on the calling thread. */
  thread?: boolean;
  /** SMTP_URLS: several sending identities (they need `identityStore` and `clock`); wins over smtpUrl. */
  accounts?: IdentityConfig[];
  identityStore?: IdentityStore;
  clock?: { now(): number };
};

/** Sending identities when SMTP_URLS is set, SMTP when a URL is configured, otherwise the outbox folder. */
export function createMailer(opts: MailerOptions): Mailer {
  if (opts.accounts && opts.accounts.length > 0) {
    if (!opts.identityStore || !opts.clock) throw new Error('sending identities need a store and a clock');
    return createIdentityMailer({
      accounts: opts.accounts,
      store: opts.identityStore,
      clock: opts.clock,
      log: opts.log,
      ...(opts.ratePerMinute ? { ratePerMinute: opts.ratePerMinute } : {}),
      ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
      ...(opts.thread ? { thread: true } : {}),
    });
  }
  if (!opts.smtpUrl) return createOutboxMailer({ dir: opts.outboxDir, log: opts.log });
  return (opts.thread ? createThreadMailer : createSmtpMailer)({
    url: opts.smtpUrl,
    log: opts.log,
    ...(opts.ratePerMinute ? { ratePerMinute: opts.ratePerMinute } : {}),
    ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
  });
}
