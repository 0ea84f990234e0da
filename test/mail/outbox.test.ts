import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createMailer, MailError, type OutgoingMessage } from '../../src/mail/index.js';
import { createOutboxMailer } from '../../src/mail/outbox.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'coldbatch-outbox-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const log = createLogger('silent');
const message = (n: number): OutgoingMessage => ({
  from: 'sales@coldbatch.test',
  to: `person${n}@example.com`,
  subject: `Hello ${n}`,
  text: `Plain body ${n}`,
  html: `<p>HTML body ${n}</p>`,
  headers: {
    'List-Unsubscribe': `<https://links.coldbatch.test/u/${n}.sig>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
  ref: `send-${n}`,
});

describe('outbox mailer', () => {
  it('writes one complete .eml per message (created dir, real MIME headers, body), no temp files left', async () => {
    const dir = join(root, 'nested', 'outbox');
    const mailer = createOutboxMailer({ dir, log });
    expect(mailer.kind).toBe('outbox');
    const infos = [];
    for (let n = 1; n <= 3; n++) infos.push(await mailer.send(message(n)));
    await mailer.close();

    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(3);
    for (const [i, file] of files.entries()) {
      const n = i + 1;
      expect(file).toMatch(new RegExp(`^\\d{8}T\\d{9}Z-send-${n}\\.eml$`));
      const eml = readFileSync(join(dir, file), 'utf8');
      expect(eml).toMatch(new RegExp(`^To: person${n}@example\\.com$`, 'm'));
      expect(eml).toMatch(new RegExp(`^Subject: Hello ${n}$`, 'm'));
      expect(eml).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
      expect(eml).toContain(`List-Unsubscribe: <https://links.coldbatch.test/u/${n}.sig>`);
      expect(eml).toContain(`Message-ID: ${infos[i]!.messageId}`);
      expect(eml).toMatch(/^Content-Type: multipart\/alternative;/m);
      expect(eml).toContain(`Plain body ${n}`);
      expect(eml).toContain(`<p>HTML body ${n}</p>`);
    }
    expect(infos.map((i) => i.response)).toEqual(Array(3).fill('written to outbox'));
    expect(new Set(infos.map((i) => i.messageId)).size).toBe(3);
  });

  it('keeps a hostile ref inside the folder', async () => {
    const dir = join(root, 'outbox');
    await createOutboxMailer({ dir, log }).send({ ...message(1), ref: '../../escape' });
    expect(readdirSync(root)).toEqual(['outbox']);
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/-______escape\.eml$/)]);
  });

  it('a folder that cannot be written fails with a transient MailError, leaving nothing behind', async () => {
    const blocker = join(root, 'not-a-dir');
    writeFileSync(blocker, 'file');
    const mailer = createOutboxMailer({ dir: blocker, log });
    await expect(mailer.send(message(1))).rejects.toMatchObject({ name: 'MailError', kind: 'transient' });
    await expect(mailer.send(message(1))).rejects.toBeInstanceOf(MailError);
    expect(await mailer.verify()).toBe(false);

    const readOnly = join(root, 'read-only');
    const ok = createOutboxMailer({ dir: readOnly, log });
    expect(await ok.verify()).toBe(true);
    if (process.getuid?.() === 0) return; // root writes anywhere
    chmodSync(readOnly, 0o500);
    await expect(ok.send(message(2))).rejects.toMatchObject({ kind: 'transient' });
    chmodSync(readOnly, 0o700);
    expect(readdirSync(readOnly)).toEqual([]);
  });

  it('createMailer picks the outbox when no SMTP URL is set (empty counts as unset)', async () => {
    const dir = join(root, 'outbox');
    expect(createMailer({ outboxDir: dir, log }).kind).toBe('outbox');
    expect(createMailer({ smtpUrl: '', outboxDir: dir, log }).kind).toBe('outbox');
    const smtp = createMailer({ smtpUrl: 'smtp://127.0.0.1:2525', outboxDir: dir, log });
    expect(smtp.kind).toBe('smtp');
    await smtp.close();
  });
});
