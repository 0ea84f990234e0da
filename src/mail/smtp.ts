import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';
import { MailError, type Mailer, type OutgoingMessage, type SentInfo } from './mailer.js';

export type SmtpOptions = {
  url: string;
  maxConnections?: number;
  /** Transport-wide pace (nodemailer's rateDelta/rateLimit). */
  ratePerMinute?: number;
  timeoutsMs?: { connection?: number; greeting?: number; socket?: number };
  log: Logger;
};

const transientCodes = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'ECONNREFUSED',
  'ECONNRESET',
  'EDNS',
  'EPROTOCOL',
  'EMAXLIMIT',
]);

/** Maps a nodemailer error to permanent (5xx) or transient (4xx, network) without leaking addresses. */
export function toMailError(e: unknown): MailError {
  const err = (e ?? {}) as { responseCode?: unknown; response?: unknown; code?: unknown; message?: unknown };
  const code = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  const text = String(err.response ?? err.message ?? 'unknown error').slice(0, 300);
  if (code !== undefined && code >= 500) return new MailError('permanent', code, text);
  if (code !== undefined && code >= 400) return new MailError('transient', code, text);
  if (typeof err.code === 'string' && transientCodes.has(err.code))
    return new MailError('transient', undefined, `${err.code}: ${text}`);
  return new MailError('transient', undefined, text);
}

/** Pooled SMTP (nodemailer) from SMTP_URL; one recipient per message. */
export function createSmtpMailer(opts: SmtpOptions): Mailer {
  const log = opts.log.child({ module: 'smtp' });
  const secure = opts.url.startsWith('smtps:');
  const transport = nodemailer.createTransport({
    url: opts.url,
    pool: true,
    maxConnections: opts.maxConnections ?? 5,
    maxMessages: 500,
    ...(opts.ratePerMinute ? { rateDelta: 60_000, rateLimit: opts.ratePerMinute } : {}),
    connectionTimeout: opts.timeoutsMs?.connection ?? 30_000,
    greetingTimeout: opts.timeoutsMs?.greeting ?? 30_000,
    socketTimeout: opts.timeoutsMs?.socket ?? 60_000,
    ...(secure ? {} : { opportunisticTLS: true }),
    logger: false,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    async send(m: OutgoingMessage): Promise<SentInfo> {
      try {
        const info = (await transport.sendMail({
          from: m.from,
          to: m.to,
          subject: m.subject,
          text: m.text,
          ...(m.html ? { html: m.html } : {}),
          headers: m.headers,
        })) as { messageId?: string; response?: string };
        return { messageId: info.messageId ?? '', response: String(info.response ?? '250 OK').slice(0, 300) };
      } catch (e) {
        const err = toMailError(e);
        log.warn({ ref: m.ref, kind: err.kind, code: err.responseCode }, 'SMTP send failed');
        throw err;
      }
    },
    async verify() {
      try {
        return await transport.verify();
      } catch {
        return false;
      }
    },
    async close() {
      transport.close();
    },
  };
}
