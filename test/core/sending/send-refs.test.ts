import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../../src/app.js';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { findSendId } from '../../../src/core/mailbox/send-ref.js';
import { fromDomain } from '../../../src/core/sending/compose.js';
import { importText, memoryLog, tempDir, testClock, testConfig } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

/**
 * Every message names its ledger row: the Message-ID (`<cb.<id>.<tag>@<from domain>>`, stored as
 * the row's message_id) and, with MAIL_BOUNCE_ADDRESS, the envelope sender (VERP). Through the
 * real app: the SMTP pool in its worker thread, sending identities, the outbox.
 */

const secret = 'send-refs-test-secret-0123456789';
const clock = testClock(Date.UTC(2026, 0, 14, 12));
const mailEnv = {
  MAIL_FROM: 'Sales <sales@coldbatch.test>',
  MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
  PUBLIC_URL: 'https://coldbatch.test',
  UNSUBSCRIBE_SECRET: secret,
};
const tagged = (domain: string) =>
  new RegExp(`^<cb\\.[1-9a-z][0-9a-z]*\\.[a-z2-7]{10}@${domain.replace(/\./g, '\\.')}>$`);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sink() {
  const s = await startSink();
  cleanups.push(s.close);
  return s;
}

async function boot(env: Record<string, string>, log?: ReturnType<typeof memoryLog>): Promise<App> {
  const config = testConfig({ ...mailEnv, ...env, ...(log ? { LOG_LEVEL: 'info' } : {}) });
  const app = buildApp(config, { clock, scheduler: false, ...(log ? { logDestination: log.stream } : {}) });
  await app.ready;
  cleanups.push(async () => {
    await app.stop();
    rmSync(config.dir, { recursive: true, force: true });
  });
  return app;
}

/** Imports the list, creates a campaign sending now, and runs the engine until it is done. */
async function send(app: App, emails: string[], from?: string) {
  await importText(app.services, `email\n${emails.join('\n')}\n`);
  const c = await app.services.campaigns.create(
    { name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now', ...(from ? { from } : {}) },
    'U1',
  );
  for (let i = 0; i < 30; i++) {
    await app.services.sending.runDue();
    if ((await app.services.campaigns.get(c.id)).status !== 'sending') break;
  }
  expect((await app.services.campaigns.get(c.id)).status).toBe('completed');
  return c;
}

/** The ledger: send id, message_id and status by address. */
function ledger(app: App): Map<string, { id: number; messageId: string | null; status: string }> {
  const rows = app.db.$client
    .prepare(
      'SELECT x.id, x.message_id AS messageId, x.status, c.email FROM sends x JOIN contacts c ON c.id = x.contact_id',
    )
    .all() as { id: number; messageId: string | null; status: string; email: string }[];
  return new Map(rows.map((r) => [r.email, r]));
}

describe('send refs on every message', () => {
  it('with MAIL_BOUNCE_ADDRESS: VERP envelope sender and tagged Message-ID, both naming the ledger row (SMTP pool in its thread)', async () => {
    const s = await sink();
    const app = await boot({ SMTP_URL: s.url, MAIL_BOUNCE_ADDRESS: 'bounces@mail.coldbatch.test' });
    const emails = ['ana@acme.com', 'bruno@acme.com', 'carla@beta.io'];
    await send(app, emails);

    const rows = ledger(app);
    expect(s.received.map((m) => m.to).sort()).toEqual(emails);
    for (const m of s.received) {
      const row = rows.get(m.to)!;
      expect(row.status).toBe('sent');
      // the envelope sender (MAIL FROM, the Return-Path) is the VERP address; the From header is unchanged
      expect(m.from).toMatch(/^bounces\+cb\.[1-9a-z][0-9a-z]*\.[a-z2-7]{10}@mail\.coldbatch\.test$/);
      expect(m.headers.from).toBe('Sales <sales@coldbatch.test>');
      expect(m.headers['message-id']).toMatch(tagged('coldbatch.test'));
      expect(findSendId([m.from], [secret])).toBe(row.id);
      expect(findSendId([m.headers['message-id']!], [secret])).toBe(row.id);
      // the ledger keeps the Message-ID as sent
      expect(row.messageId).toBe(m.headers['message-id']);
    }
    // each message names its own row
    expect(new Set(s.received.map((m) => m.from)).size).toBe(3);
  });

  it('without MAIL_BOUNCE_ADDRESS: the envelope sender is the From address, the Message-ID is tagged with the campaign sender domain', async () => {
    const s = await sink();
    const app = await boot({ SMTP_URL: s.url });
    await send(app, ['ana@acme.com'], 'Ana <ana@vendas.example.com>');

    const [m] = s.received;
    expect(m?.from).toBe('ana@vendas.example.com');
    expect(m?.headers.from).toBe('Ana <ana@vendas.example.com>');
    expect(m?.headers['message-id']).toMatch(tagged('vendas.example.com'));
    const row = ledger(app).get('ana@acme.com')!;
    expect(findSendId([m!.headers['message-id']!], [secret])).toBe(row.id);
    expect(row.messageId).toBe(m?.headers['message-id']);
  });

  it('sending identities (SMTP_URLS) run their pools in the SMTP thread and carry the VERP envelope sender and the tagged Message-ID too', async () => {
    const a = await sink();
    const b = await sink();
    const log = memoryLog();
    const app = await boot(
      {
        SMTP_URLS: `smtp://127.0.0.1:${a.port},smtp://127.0.0.1:${b.port}`,
        MAIL_BOUNCE_ADDRESS: 'bounces@coldbatch.test',
      },
      log,
    );
    const emails = ['p1@acme.com', 'p2@acme.com', 'p3@acme.com', 'p4@acme.com'];
    await send(app, emails);

    const received = [...a.received, ...b.received];
    expect(a.received.length).toBeGreaterThan(0);
    expect(b.received.length).toBeGreaterThan(0);
    expect(received.map((m) => m.to).sort()).toEqual(emails);
    const rows = ledger(app);
    for (const m of received) {
      const row = rows.get(m.to)!;
      expect(findSendId([m.from], [secret])).toBe(row.id);
      expect(m.from.startsWith('bounces+cb.')).toBe(true);
      expect(row.messageId).toBe(m.headers['message-id']);
      expect(findSendId([row.messageId!], [secret])).toBe(row.id);
    }
    // both accounts' pools were built in the one SMTP worker thread, not on the main thread
    const pools = log.lines().filter((l) => l.msg === 'SMTP pool ready');
    expect(pools.map((l) => `${String(l.thread)} ${String(l.account)}`).sort()).toEqual(
      [`smtp 127.0.0.1:${a.port}`, `smtp 127.0.0.1:${b.port}`].sort(),
    );
  });

  it('the outbox writes the tagged Message-ID, and the ledger stores the same one', async () => {
    const tmp = tempDir();
    cleanups.push(async () => tmp.cleanup());
    const dir = join(tmp.dir, 'outbox');
    const app = await boot({ MAIL_OUTBOX_DIR: dir });
    await send(app, ['ana@acme.com']);
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    const eml = readFileSync(join(dir, file!), 'utf8');
    const header = /^Message-ID: (.*)$/m.exec(eml)?.[1];
    expect(header).toMatch(tagged('coldbatch.test'));
    const row = ledger(app).get('ana@acme.com')!;
    expect(row.messageId).toBe(header);
    expect(findSendId([header!], [secret])).toBe(row.id);
  });
});

describe('MAIL_BOUNCE_ADDRESS', () => {
  it('is an address whose local part leaves room for the tag, unset by default', () => {
    expect(loadConfig({}).mail.bounceAddress).toBeUndefined();
    expect(loadConfig({ MAIL_BOUNCE_ADDRESS: '' }).mail.bounceAddress).toBeUndefined();
    expect(loadConfig({ MAIL_BOUNCE_ADDRESS: 'bounces@acme.com' }).mail.bounceAddress).toBe(
      'bounces@acme.com',
    );
    expect(() => loadConfig({ MAIL_BOUNCE_ADDRESS: 'bounces' })).toThrow(ConfigError);
    expect(() => loadConfig({ MAIL_BOUNCE_ADDRESS: `${'b'.repeat(39)}@acme.com` })).toThrow(
      /MAIL_BOUNCE_ADDRESS .*38 characters/,
    );
    expect(
      loadConfig({ MAIL_BOUNCE_ADDRESS: `${'b'.repeat(38)}@acme.com` }).mail.bounceAddress,
    ).toBeDefined();
  });
});

describe('the Message-ID domain', () => {
  it('is the From address domain, lowercased and in ASCII', () => {
    expect(fromDomain('sales@Acme.COM')).toBe('acme.com');
    expect(fromDomain('"Silva, Ana @ Acme" <ana@acme.com.br>')).toBe('acme.com.br');
    expect(fromDomain('Vendas <vendas@bücher.de>')).toBe('xn--bcher-kva.de');
    expect(fromDomain('no address')).toBe('localhost');
  });
});
