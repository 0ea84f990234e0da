import { Readable } from 'node:stream';
import nodemailer, { type SMTPPoolOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { type DkimKey, signMessage } from './dkim.js';
import { MailError, type Mailer, mailFields, type OutgoingMessage, type SentInfo } from './mailer.js';

export type SmtpOptions = {
  /** smtp:// (STARTTLS when offered) or smtps:// (TLS from the start); may hold user:password. */
  url: string;
  maxConnections?: number;
  /** Transport-wide pace, nodemailer's own rateLimit per rateDelta of one minute. */
  ratePerMinute?: number;
  /** Overrides of the default timeouts (30 s to connect and greet, 60 s of silence). */
  timeoutsMs?: { connection?: number; greeting?: number; socket?: number };
  /** Sign every message with this key (DKIM_*, an SMTP_URLS entry's `dkim=`); one that cannot be signed is not sent. */
  dkim?: DkimKey;
  log: Logger;
};

/** The fields of a nodemailer error we read; anything else (or a non-object) reads as empty. */
const nodemailerError = z.object({
  code: z.string().optional().catch(undefined),
  originalCode: z.string().optional().catch(undefined),
  responseCode: z.number().int().optional().catch(undefined),
  response: z.string().optional().catch(undefined),
  command: z.string().optional().catch(undefined),
  timeoutType: z.string().optional().catch(undefined),
  message: z.string().optional().catch(undefined),
});
type NodemailerErrorFields = z.infer<typeof nodemailerError>;

/** Commands whose 5xx answer is about the recipient or the message, not about our account or server. */
const recipientCommands = new Set(['RCPT TO', 'DATA']);

function readError(e: unknown): NodemailerErrorFields {
  const parsed = nodemailerError.safeParse(e);
  return parsed.success ? parsed.data : { message: String(e) };
}

/** Network failures that mean the server was never reached: nothing of the message left this machine. */
const unreachableCodes = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const unreachableTimeouts = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT']);

/**
 * Maps a nodemailer error to a MailError: a 5xx answer to RCPT TO or DATA is `permanent`
 * (except 503, a bad command sequence); everything else (4xx, a refused sender or login,
 * a dropped connection, a timeout, DNS) is `transient`, so a broken account never bounces a list.
 *
 * `streamed`: the whole message, with its final ".", had been handed to the connection. A
 * connection lost (or silent) after that and before the server's answer is `unknown`: the server
 * may have queued the message, and sending it again could deliver it twice, so it is never
 * retried blindly. Before the final "." the server cannot have accepted it, so that drop stays
 * `transient` and is retried.
 */
export function toMailError(
  e: unknown,
  scrub: (text: string) => string = (t) => t,
  streamed = false,
): MailError {
  const err = readError(e);
  const code = err.responseCode;
  const text = scrub(err.response ?? `${err.code ?? 'ERROR'}: ${err.message ?? 'unknown error'}`).slice(
    0,
    500,
  );
  if (code === undefined && streamed) {
    return new MailError(
      'unknown',
      undefined,
      `no answer after the message was sent (${text})`.slice(0, 500),
    );
  }
  const permanent =
    code !== undefined &&
    code >= 500 &&
    code < 600 &&
    code !== 503 &&
    recipientCommands.has(err.command ?? '');
  const unreachable =
    code === undefined &&
    (err.code === 'EDNS' ||
      unreachableCodes.has(err.originalCode ?? err.code ?? '') ||
      unreachableTimeouts.has(err.timeoutType ?? ''));
  return new MailError(permanent ? 'permanent' : 'transient', code, text, unreachable);
}

/** The pooled transport options for a mailer (exported so tests can check what the pool is given). */
export function smtpTransportOptions(opts: Omit<SmtpOptions, 'log'>): SMTPPoolOptions & { pool: true } {
  return {
    url: opts.url,
    pool: true,
    maxConnections: opts.maxConnections ?? 5,
    ...(opts.ratePerMinute ? { rateDelta: 60_000, rateLimit: opts.ratePerMinute } : {}),
    connectionTimeout: opts.timeoutsMs?.connection ?? 30_000,
    greetingTimeout: opts.timeoutsMs?.greeting ?? 30_000,
    // the reply to the final "." may take a while (content scanning); a timeout there is a send
    // that may have gone through, so it is kept longer than the others
    socketTimeout: opts.timeoutsMs?.socket ?? 60_000,
    maxRecipients: 1,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  };
}

/** The secrets in an SMTP URL (user info), so they can be cut out of any text we keep or log. */
function secretsOf(url: string): string[] {
  try {
    const { password } = new URL(url);
    // a very short password would redact ordinary letters of every answer; it is never echoed anyway
    return [...new Set([password, decodeURIComponent(password)])].filter((s) => s.length >= 4);
  } catch {
    return [];
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The message built to its final bytes (nodemailer's MailComposer, as sendMail would) and signed
 * with nodemailer's DKIM signer, before the pool sees it: a message that cannot be signed fails
 * here, before any SMTP command, as unreachable (nothing left: it is held, no attempt spent).
 * Signing inside the pool (its `dkim` option) would read the whole message before the envelope is
 * sent, so a dropped connection would look like one after the final "." (see toMailError).
 */
function* pieces(bytes: Buffer, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function signed(m: OutgoingMessage, key: DkimKey, log: Logger) {
  // a message that cannot be built fails as it would in sendMail (below, through toMailError)
  const node = new MailComposer({
    ...mailFields(m),
    disableFileAccess: true,
    disableUrlAccess: true,
  }).compile();
  const envelope = node.getEnvelope();
  const built = await node.build();
  try {
    const signedBytes = await signMessage(built, key);
    // handed over in pieces, as sendMail streams a message it builds: the end of the stream still
    // means the final "." is near (see `streamed`), not merely that one big buffer was queued
    const raw = Readable.from(pieces(signedBytes, 16 * 1024), { objectMode: false });
    return { raw, envelope: { from: envelope.from || '', to: envelope.to }, messageId: node.messageId() };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    log.error({ ref: m.ref, selector: key.keySelector, domain: key.domainName }, 'DKIM signing failed');
    throw new MailError(
      'transient',
      undefined,
      `DKIM signing failed (${why.slice(0, 200)}): the message was not sent`,
      true,
    );
  }
}

/** Pooled SMTP (nodemailer) from SMTP_URL; one recipient per message; failures become MailError. */
export function createSmtpMailer(opts: SmtpOptions): Mailer {
  const log = opts.log.child({ module: 'mail', transport: 'smtp' });
  const secrets = secretsOf(opts.url);
  const scrub = (text: string) => secrets.reduce((t, s) => t.split(s).join('[redacted]'), text);
  const transport = nodemailer.createTransport(smtpTransportOptions(opts));
  // The sends whose whole message has been handed to the connection (see toMailError). Keyed by the
  // headers object of each send: nodemailer keeps that object (not a copy) on the message it compiles.
  const streamed = new WeakSet<object>();
  transport.use('stream', (mail, done) => {
    const key = mail.data.headers;
    if (key && typeof key === 'object') {
      mail.message?.processFunc((input) => {
        input.once('end', () => streamed.add(key));
        return input;
      });
    }
    done();
  });
  // the pool reports failures through each send's callback; this only keeps a stray event from crashing
  transport.on('error', (e: unknown) => {
    const err = readError(e);
    log.warn({ code: err.code, originalCode: err.originalCode }, 'SMTP transport error');
  });
  log.info(
    { host: hostOf(opts.url), maxConnections: opts.maxConnections ?? 5, ratePerMinute: opts.ratePerMinute },
    'SMTP pool ready',
  );

  return {
    kind: 'smtp',
    async send(m: OutgoingMessage): Promise<SentInfo> {
      const headers = { ...m.headers };
      try {
        // signed: built and signed here, then handed over as is (headers stays the key of `streamed`)
        const mail = opts.dkim ? await signed(m, opts.dkim, log) : { ...mailFields(m), headers };
        const info = await transport.sendMail({ ...mail, headers });
        const messageId = 'raw' in mail ? mail.messageId : info.messageId;
        log.debug({ ref: m.ref, messageId }, 'SMTP send accepted');
        return { messageId, response: scrub(info.response).slice(0, 500) };
      } catch (e) {
        if (e instanceof MailError) throw e; // not signed: held (signed() said why)
        const mailError = toMailError(e, scrub, streamed.has(headers));
        const err = readError(e);
        // no message text: the server's answer and nodemailer's message may both name the recipient
        log.warn(
          {
            ref: m.ref,
            kind: mailError.kind,
            unreachable: mailError.unreachable,
            responseCode: mailError.responseCode,
            code: err.code,
            originalCode: err.originalCode,
            command: err.command,
            timeoutType: err.timeoutType,
          },
          'SMTP send failed',
        );
        throw mailError;
      }
    },
    async verify(): Promise<boolean> {
      try {
        return await transport.verify();
      } catch (e) {
        const err = readError(e);
        log.warn(
          { code: err.code, originalCode: err.originalCode, responseCode: err.responseCode },
          'SMTP verify failed',
        );
        return false;
      }
    },
    async close(): Promise<void> {
      transport.close();
    },
  };
}
