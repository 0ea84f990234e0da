import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';
import type { Mailer, OutgoingMessage, SentInfo } from './mailer.js';

/** Nothing leaves the machine: each message is rendered to MIME and written as an .eml file. */
export function createOutboxMailer(opts: { dir: string; log: Logger }): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let ready = false;
  return {
    kind: 'outbox',
    async send(m: OutgoingMessage): Promise<SentInfo> {
      if (!ready) {
        mkdirSync(opts.dir, { recursive: true });
        ready = true;
      }
      const info = (await transport.sendMail({
        from: m.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        ...(m.html ? { html: m.html } : {}),
        headers: m.headers,
      })) as { messageId?: string; message: Buffer };
      const name = `${Date.now()}-${m.ref.replace(/[^A-Za-z0-9_-]/g, '_')}.eml`;
      const tmp = join(opts.dir, `.${name}.tmp`);
      writeFileSync(tmp, info.message);
      renameSync(tmp, join(opts.dir, name));
      return { messageId: info.messageId ?? '', response: 'written to outbox' };
    },
    async verify() {
      try {
        mkdirSync(opts.dir, { recursive: true });
        return true;
      } catch {
        return false;
      }
    },
    async close() {},
  };
}
