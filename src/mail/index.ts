import type { Logger } from '../logger.js';
import type { DkimKey } from './dkim.js';
import { createIdentityMailer, type IdentityConfig, type IdentityStore } from './identities.js';
import type { Mailer } from './mailer.js';
import { createOutboxMailer } from './outbox.js';
import { type Gap, pacedMailer } from './pacing.js';
import { createSmtpMailer } from './smtp.js';
import { createThreadMailer } from './smtp-thread.js';

export type { DkimKey, DkimSetting } from './dkim.js';
export type { IdentityConfig, IdentityHealth, IdentityStore } from './identities.js';
export { createIdentityMailer } from './identities.js';
export type { IdentityState, Mailer, MailFailureKind, OutgoingMessage, SentInfo } from './mailer.js';
export { MailError } from './mailer.js';
export { createOutboxMailer } from './outbox.js';
export type { Gap, PacedIdentity } from './pacing.js';
export { estimateSendMs, meanGapMs, pacedRatePerMinute, parseGap } from './pacing.js';
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
  /** SMTP_URL's DKIM key (DKIM_*): every message signed, or not sent. SMTP_URLS accounts carry their own. */
  dkim?: DkimKey;
  /** SEND_GAP for the one transport (SMTP_URL or the outbox; it needs `clock`); SMTP_URLS accounts carry their own. */
  gap?: Gap;
  /** The random source of the gaps (tests); default Math.random. */
  random?: () => number;
};

/** The MailerOptions of the mail settings that are set: the rate, SMTP_URL's DKIM key and SEND_GAP. */
export function mailSettings(mail: {
  ratePerMinute: number | undefined;
  dkim: { key: DkimKey | null };
  sendGap: Gap | undefined;
}): Pick<MailerOptions, 'ratePerMinute' | 'dkim' | 'gap'> {
  return {
    ...(mail.ratePerMinute ? { ratePerMinute: mail.ratePerMinute } : {}),
    ...(mail.dkim.key ? { dkim: mail.dkim.key } : {}),
    ...(mail.sendGap ? { gap: mail.sendGap } : {}),
  };
}

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
      ...(opts.random ? { random: opts.random } : {}),
    });
  }
  const one = opts.smtpUrl
    ? (opts.thread ? createThreadMailer : createSmtpMailer)({
        url: opts.smtpUrl,
        log: opts.log,
        ...(opts.ratePerMinute ? { ratePerMinute: opts.ratePerMinute } : {}),
        ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
        ...(opts.dkim ? { dkim: opts.dkim } : {}),
      })
    : createOutboxMailer({ dir: opts.outboxDir, log: opts.log });
  if (!opts.gap) return one;
  if (!opts.clock) throw new Error('SEND_GAP needs a clock');
  return pacedMailer(one, {
    gap: opts.gap,
    clock: opts.clock,
    ...(opts.random ? { random: opts.random } : {}),
  });
}
