import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { capOn } from '../../src/mail/identities.js';
import { freePort, startRawSmtp } from '../faults/raw-smtp.js';
import { importText, testClock, testConfig } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

type Sink = Awaited<ReturnType<typeof startSink>>;
const day1 = Date.UTC(2026, 0, 14, 12);
const clock = testClock(day1);
const dayMs = 86_400_000;
const mailEnv = {
  MAIL_FROM: 'Sales <sales@coldbatch.test>',
  MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
  PUBLIC_URL: 'https://coldbatch.test',
};

let config: (Config & { dir: string }) | undefined;
let app: App | undefined;
let url = '';
const closers: (() => Promise<void>)[] = [];

/** The real app (SMTP_URLS parsed by the real config) on the same database across restarts. */
async function boot(env?: Record<string, string>): Promise<App> {
  if (env) config = testConfig({ ...mailEnv, ...env });
  app = buildApp(config!, { clock, scheduler: false });
  const { port } = await app.start();
  url = `http://127.0.0.1:${port}`;
  return app;
}

async function restart(): Promise<App> {
  await app?.stop();
  return boot();
}

async function sink(opts: Parameters<typeof startSink>[0] = {}): Promise<Sink> {
  const s = await startSink(opts);
  closers.push(s.close);
  return s;
}

const emails = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}@acme.com`);

async function campaignTo(a: App, list: string[]) {
  await importText(a.services, `email\n${list.join('\n')}\n`);
  return await a.services.campaigns.create(
    { name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now' },
    'U1',
  );
}

async function drain(a: App, id: string, ticks = 30) {
  for (let i = 0; i < ticks; i++) {
    await a.services.sending.runDue();
    if ((await a.services.campaigns.get(id)).status !== 'sending') break;
  }
  return await a.services.campaigns.get(id);
}

const rows = (a: App) =>
  a.db.$client
    .prepare(
      'SELECT c.email, x.status, x.account FROM sends x JOIN contacts c ON c.id = x.contact_id ORDER BY x.id',
    )
    .all() as { email: string; status: string; account: string | null }[];

const health = (a: App, key: string) =>
  a.db.$client.prepare('SELECT * FROM smtp_accounts WHERE key = ?').get(key) as
    | { first_used_at: number | null; consecutive_failures: number; skip_until: number | null }
    | undefined;

async function healthz() {
  const res = await fetch(`${url}/healthz`);
  return {
    text: await res.clone().text(),
    body: (await res.json()) as { identities?: Record<string, unknown>[] },
  };
}

beforeEach(() => clock.set(day1));
afterEach(async () => {
  await app?.stop();
  app = undefined;
  for (const close of closers.splice(0)) await close();
  if (config) rmSync(config.dir, { recursive: true, force: true });
  config = undefined;
});

describe('sending identities (SMTP_URLS)', () => {
  it('rotates accounts per message, records which took each in sends.account, and shows them in /healthz without secrets', async () => {
    const a = await sink();
    const b = await sink();
    const ka = `127.0.0.1:${a.port}:alice`;
    const kb = `127.0.0.1:${b.port}:bob`;
    await boot({
      SMTP_URLS: `smtp://alice:pw-alice-secret@127.0.0.1:${a.port},smtp://bob:pw-bob-secret@127.0.0.1:${b.port}#cap=100`,
    });
    const list = emails(6);
    const c = await campaignTo(app!, list);
    expect((await drain(app!, c.id)).status).toBe('completed');

    const all = [...a.received, ...b.received].map((m) => m.to).sort();
    expect(all).toEqual([...list].sort());
    expect(a.received).toHaveLength(3);
    expect(b.received).toHaveLength(3);
    const ledger = rows(app!);
    expect(ledger.map((r) => r.account)).toEqual([ka, kb, ka, kb, ka, kb]);
    for (const r of ledger) {
      expect(r.status).toBe('sent');
      const took = r.account === ka ? a : b;
      expect(took.received.map((m) => m.to)).toContain(r.email);
    }

    const { text, body } = await healthz();
    expect(text).not.toContain('secret');
    expect(body.identities).toEqual([
      { key: ka, sentToday: 3, capToday: null, skippedUntil: null, consecutiveFailures: 0 },
      { key: kb, sentToday: 3, capToday: 100, skippedUntil: null, consecutiveFailures: 0 },
    ]);
  });

  it('stops at each account’s cap for the day (warm-up: day N cap = warmup × N), keeps counts and day 1 across a restart, and resumes the next day', async () => {
    const a = await sink();
    const b = await sink();
    const ka = `127.0.0.1:${a.port}:a`;
    await boot({
      SMTP_URLS: `smtp://a:pw1@127.0.0.1:${a.port}#cap=5&warmup=2,smtp://b:pw2@127.0.0.1:${b.port}#warmup=1`,
    });
    const list = emails(10);
    const c = await campaignTo(app!, list);

    // day 1: a 2, b 1
    expect((await drain(app!, c.id, 5)).status).toBe('sending');
    expect([a.received.length, b.received.length]).toEqual([2, 1]);
    expect(health(app!, ka)?.first_used_at).toBe(day1);
    expect(rows(app!)).toHaveLength(3); // nothing claimed beyond today's caps

    // a restart reads today's counts from the ledger and day 1 from smtp_accounts
    clock.advance(3_600_000);
    await restart();
    expect((await drain(app!, c.id, 5)).status).toBe('sending');
    expect([a.received.length, b.received.length]).toEqual([2, 1]);
    expect((await healthz()).body.identities?.[0]).toMatchObject({ key: ka, sentToday: 2, capToday: 2 });

    // day 2: a 4, b 2
    clock.set(day1 + dayMs);
    expect((await drain(app!, c.id, 5)).status).toBe('sending');
    expect([a.received.length, b.received.length]).toEqual([2 + 4, 1 + 2]);

    // day 3: a min(5, 6) = 5, b 3: the last one goes
    clock.set(day1 + 2 * dayMs + 60_000);
    expect((await drain(app!, c.id, 5)).status).toBe('completed');
    const got = [...a.received, ...b.received].map((m) => m.to).sort();
    expect(got).toEqual([...list].sort()); // each exactly once
    expect(rows(app!).every((r) => r.status === 'sent')).toBe(true); // no row burned waiting
  });

  it('skips an account that refuses connections after 5 failures (state survives a restart, cool-down doubles, a success resets it); no one is lost or doubled', async () => {
    const a = await sink();
    const b = await sink();
    const deadPort = await freePort();
    const kDead = `127.0.0.1:${deadPort}:d`;
    await boot({
      SMTP_URLS: `smtp://d:pw-dead@127.0.0.1:${deadPort},smtp://127.0.0.1:${a.port},smtp://127.0.0.1:${b.port}`,
    });
    const first = emails(30, 'f');
    const c = await campaignTo(app!, first);
    expect((await drain(app!, c.id)).status).toBe('completed');
    const got = [...a.received, ...b.received].map((m) => m.to).sort();
    expect(got).toEqual([...first].sort());
    expect(rows(app!).every((r) => r.status === 'sent' && r.account !== kDead)).toBe(true);
    // sends already under way when the 5th failure came back may add one or two more
    const h = health(app!, kDead)!;
    const f = h.consecutive_failures;
    expect(f).toBeGreaterThanOrEqual(5);
    expect(f).toBeLessThan(10);
    expect(h.skip_until).toBe(day1 + 600_000 * 2 ** (f - 5));
    const shown = (await healthz()).body.identities?.[0];
    expect(shown).toMatchObject({ key: kDead, skippedUntil: new Date(h.skip_until!).toISOString() });

    // after a restart it is still skipped: no further attempt on it
    await restart();
    const second = emails(4, 's');
    const c2 = await campaignTo(app!, second);
    expect((await drain(app!, c2.id)).status).toBe('completed');
    expect(health(app!, kDead)?.consecutive_failures).toBe(f);

    // cool-down over, still refusing: one probe fails and the cool-down doubles
    clock.set(h.skip_until! + 60_000);
    const c3 = await campaignTo(app!, emails(3, 't'));
    expect((await drain(app!, c3.id)).status).toBe('completed');
    const after = health(app!, kDead)!;
    expect(after.consecutive_failures).toBe(f + 1);
    expect(after.skip_until).toBe(clock.now() + 600_000 * 2 ** (f + 1 - 5));

    // it comes back: the next probe succeeds and the account is in use again
    const back = await startRawSmtp({ port: deadPort });
    closers.push(back.close);
    clock.set(after.skip_until! + 60_000);
    const c4 = await campaignTo(app!, emails(6, 'u'));
    expect((await drain(app!, c4.id)).status).toBe('completed');
    expect(health(app!, kDead)).toMatchObject({ consecutive_failures: 0, skip_until: null });
    expect(back.received.length).toBeGreaterThanOrEqual(1);

    // every recipient of every campaign exactly once across the three servers
    const counts = new Map<string, number>();
    for (const m of [...a.received, ...b.received, ...back.received])
      counts.set(`${m.to}`, (counts.get(m.to) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBe(1);
    const sentRows = app!.db.$client
      .prepare(`SELECT count(*) AS n FROM sends WHERE status = 'sent'`)
      .get() as {
      n: number;
    };
    expect(sentRows.n).toBe(a.received.length + b.received.length + back.received.length);
  });

  it('does not count 5xx recipient bounces against the account, but counts 4xx answers', async () => {
    const bad = await sink({
      reject: (to) => (to.startsWith('bad') ? 550 : to.startsWith('later') ? 451 : undefined),
    });
    const key = `127.0.0.1:${bad.port}`;
    await boot({ SMTP_URLS: `smtp://127.0.0.1:${bad.port}` });
    const c = await campaignTo(app!, emails(6, 'bad'));
    expect((await drain(app!, c.id)).status).toBe('completed');
    expect(rows(app!).map((r) => r.status)).toEqual(Array(6).fill('bounced'));
    expect(health(app!, key)?.consecutive_failures ?? 0).toBe(0);
    expect((await healthz()).body.identities?.[0]).toMatchObject({ skippedUntil: null });

    const c2 = await campaignTo(app!, emails(3, 'later'));
    await drain(app!, c2.id, 3);
    expect(health(app!, key)?.consecutive_failures).toBe(3);
  });
});

describe('capOn', () => {
  const cfg = { key: 'k', url: 'smtp://h', cap: 500, warmup: 50 };
  it('ramps by warmup per day of use up to the cap', () => {
    expect(capOn(cfg, null, day1)).toBe(50);
    expect(capOn(cfg, day1, day1 + 11 * 3_600_000)).toBe(50);
    expect(capOn(cfg, day1, day1 + dayMs)).toBe(100);
    expect(capOn(cfg, day1, day1 + 20 * dayMs)).toBe(500);
    expect(capOn({ ...cfg, warmup: null }, day1, day1)).toBe(500);
    expect(capOn({ ...cfg, cap: null, warmup: null }, day1, day1)).toBeNull();
  });
});

describe('SMTP_URLS configuration', () => {
  const parse = (SMTP_URLS: string, extra: Record<string, string> = {}) =>
    loadConfig({ SMTP_URLS, PUBLIC_URL: 'https://coldbatch.test', ...extra });
  const error = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return String(e);
    }
    throw new Error('no error');
  };

  it('reads each account with its key (no password), URL without the fragment, cap and warm-up', () => {
    const { accounts, smtpUrl } = parse(
      ' smtp://a%40x.com:p%2Cw@mail.x.com:2525#cap=500&warmup=50 , smtps://b:pw@smtp.y.com#cap=300,smtp://z.com',
    ).mail;
    expect(smtpUrl).toBeUndefined();
    expect(accounts).toEqual([
      { key: 'mail.x.com:2525:a@x.com', url: 'smtp://a%40x.com:p%2Cw@mail.x.com:2525', cap: 500, warmup: 50 },
      { key: 'smtp.y.com:465:b', url: 'smtps://b:pw@smtp.y.com', cap: 300, warmup: null },
      { key: 'z.com:587', url: 'smtp://z.com', cap: null, warmup: null },
    ]);
    expect(loadConfig({}).mail.accounts).toEqual([]);
  });

  it('refuses wrong entries naming the variable and the entry, never showing the password', () => {
    const cases = [
      'smtp://u:hunter22@h:587#cap=0',
      'smtp://u:hunter22@h:587#cap=ten',
      'smtp://u:hunter22@h:587#daily=5',
      'http://u:hunter22@h:587',
      'smtp://u:hunter22@h:587,smtp://u:other@h:587',
    ];
    for (const c of cases) {
      const msg = error(() => parse(c));
      expect(msg).toMatch(/SMTP_URLS entry \d/);
      expect(msg).not.toContain('hunter22');
    }
    expect(error(() => parse('smtp://h:25', { SMTP_URL: 'smtp://h:25' }))).toMatch(/only one/);
  });
});
