import { randomUUID } from 'node:crypto';
import { access, constants, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type StreamSentMessageInfo } from 'nodemailer';
import type { Logger } from '../logger.js';
import { MailError, type Mailer, mailFields, type OutgoingMessage, type SentInfo } from './mailer.js';
import { toMailError } from './smtp.js';

/** `20260114T120000123Z`: sortable, and legal in a file name everywhere. */
function stamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

/** A ref reduced to characters safe in a file name (it is ours, but a path separator must never pass). */
function safeRef(ref: string): string {
  return ref.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80) || 'message';
}

/** Writes data under a temp name, flushes it, then renames: a crash leaves no half-written .eml. */
async function writeAtomically(dir: string, name: string, data: Buffer): Promise<void> {
  const tmp = join(dir, `.${name}.${randomUUID()}.tmp`);
  try {
    const file = await open(tmp, 'wx', 0o600); // a message names its recipient: this user only
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, join(dir, name));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Nothing leaves the machine: each message is rendered to its real MIME and written as an .eml file. */
export function createOutboxMailer(opts: { dir: string; log: Logger }): Mailer {
  const log = opts.log.child({ module: 'mail', transport: 'outbox' });
  const transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'unix',
    maxRecipients: 1,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });

  return {
    kind: 'outbox',
    async send(m: OutgoingMessage): Promise<SentInfo> {
      let info: StreamSentMessageInfo;
      try {
        info = await transport.sendMail(mailFields(m));
      } catch (e) {
        const err = toMailError(e);
        log.warn({ ref: m.ref, kind: err.kind }, 'outbox could not render the message');
        throw err;
      }
      if (!Buffer.isBuffer(info.message))
        throw new MailError('transient', undefined, 'message was not buffered');
      const name = `${stamp(new Date())}-${safeRef(m.ref)}.eml`;
      try {
        await mkdir(opts.dir, { recursive: true, mode: 0o700 });
        await writeAtomically(opts.dir, name, info.message);
      } catch (e) {
        const code = e instanceof Error && 'code' in e ? String(e.code) : 'EIO';
        log.warn({ ref: m.ref, code }, 'outbox write failed');
        throw new MailError('transient', undefined, `outbox write failed: ${code}`);
      }
      log.debug({ ref: m.ref, file: name }, 'message written to outbox');
      return { messageId: info.messageId, response: 'written to outbox' };
    },
    async verify(): Promise<boolean> {
      try {
        await mkdir(opts.dir, { recursive: true, mode: 0o700 });
        await access(opts.dir, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
    async close(): Promise<void> {
      transport.close();
    },
  };
}
