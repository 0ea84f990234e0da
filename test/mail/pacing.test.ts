import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { estimateFinish } from '../../src/core/campaigns/schedule.js';
import { createLogger } from '../../src/logger.js';
import { createIdentityMailer, type IdentityConfig, type IdentityStore } from '../../src/mail/identities.js';
import { createMailer } from '../../src/mail/index.js';
import { MailError, type Mailer, type OutgoingMessage } from '../../src/mail/mailer.js';
import { estimateSendMs, type Gap, pacedRatePerMinute, parseGap } from '../../src/mail/pacing.js';
import { importText, tempDir, testClock, testConfig } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

const log = createLogger('silent');
const s = 1000;
const g60to120: Gap = { minMs: 60 * s, maxMs: 120 * s };

/** A seeded random source (mulberry32): the same gaps every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const memoryStore = (): IdentityStore => ({
  countSince: () => new Map(),
  loadHealth: () => [],
  saveHealth: () => {},
});

const message = (n: number): OutgoingMessage => ({
  from: 'a@acme.test',
  to: `p${n}@example.org`,
  subject: 'Hi',
  text: 'Hello',
  headers: {},
  ref: `r${n}`,
});

/** Transports that record which identity started a message when (the injected clock). */
function recorder(clock: { now(): number }, fail?: (key: string) => MailError | undefined) {
  const starts: { key: string; at: number }[] = [];
  const transport = (account: IdentityConfig): Mailer => ({
    kind: 'smtp',
    async send() {
      const e = fail?.(account.key);
      if (e) throw e;
      starts.push({ key: account.key, at: clock.now() });
      return { messageId: '<x@acme.test>', response: '250 ok' };
    },
    verify: async () => true,
    close: async () => {},
  });
  return { starts, transport };
}

/** The first moment after `now` the mailer has room (room() is a pure read: doubling, then bisection). */
function nextRoom(mailer: Mailer, now: number): number {
  let step = 1;
  while ((mailer.room?.(now + step) ?? 1) <= 0) step *= 2;
  let lo = now + Math.floor(step / 2);
  let hi = now + step;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((mailer.room?.(mid) ?? 1) > 0) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Sends `n` messages as the engine would: as many as room() allows, then waits for the next room. */
async function drive(mailer: Mailer, clock: ReturnType<typeof testClock>, n: number): Promise<void> {
  for (let sent = 0; sent < n; ) {
    const room = mailer.room?.(clock.now()) ?? n;
    if (room <= 0) {
      clock.set(nextRoom(mailer, clock.now()));
      continue;
    }
    const k = Math.min(room, n - sent);
    await Promise.all(Array.from({ length: k }, (_, i) => mailer.send(message(sent + i))));
    sent += k;
  }
}

const gapsOf = (starts: { key: string; at: number }[], key: string) => {
  const at = starts.filter((x) => x.key === key).map((x) => x.at);
  return at.slice(1).map((t, i) => t - at[i]!);
};
const span = (starts: { at: number }[]) => starts[starts.length - 1]!.at - starts[0]!.at;

const identity = (key: string, gap: Gap | null, cap: number | null = null): IdentityConfig => ({
  key,
  url: `smtp://${key}`,
  cap,
  warmup: null,
  gap,
});

describe('pacing settings (SEND_GAP, #gap=)', () => {
  it('reads a wait or a range, with units; 0 is off; refuses the rest in words', () => {
    expect(parseGap('90s')).toEqual({ ok: true, gap: { minMs: 90 * s, maxMs: 90 * s } });
    expect(parseGap('60-120s')).toEqual({ ok: true, gap: g60to120 });
    expect(parseGap('60s-120s')).toEqual({ ok: true, gap: g60to120 });
    expect(parseGap('1m - 2m')).toEqual({ ok: true, gap: g60to120 });
    expect(parseGap('30s-2m')).toEqual({ ok: true, gap: { minMs: 30 * s, maxMs: 120 * s } });
    expect(parseGap('0')).toEqual({ ok: true, gap: null });
    for (const bad of ['90', '60-120', '2m-1m', 'soon', '2h', '-5s'])
      expect(parseGap(bad)).toMatchObject({ ok: false, problem: expect.stringMatching(/must be/) });
  });

  it('SEND_GAP applies to every SMTP_URLS identity without its own gap=; gap=0 turns it off for one', () => {
    const c = loadConfig({
      PUBLIC_URL: 'https://coldbatch.test',
      SEND_GAP: '60-120s',
      SMTP_URLS: 'smtp://a:pw@h1:25,smtp://b:pw@h2:25#gap=30s,smtp://c:pw@h3:25#gap=0',
    });
    expect(c.mail.sendGap).toEqual(g60to120);
    expect(c.mail.accounts.map((a) => a.gap ?? null)).toEqual([
      g60to120,
      { minMs: 30 * s, maxMs: 30 * s },
      null,
    ]);
    expect(loadConfig({}).mail.sendGap).toBeUndefined();
    expect(loadConfig({ SEND_GAP: ' ' }).mail.sendGap).toBeUndefined();
    expect(() => loadConfig({ SEND_GAP: '120' })).toThrow(/SEND_GAP must be a wait like 90s.*give a unit/);
    expect(() =>
      loadConfig({ PUBLIC_URL: 'https://coldbatch.test', SMTP_URLS: 'smtp://a:pw@h:25#gap=soon' }),
    ).toThrow(/SMTP_URLS entry 1: gap must be/);
  });
});

describe('pacing per identity (the injected clock, a seeded random source)', () => {
  it('two identities interleave, each waiting 60–120 s between its messages; the estimate is within 5 %', async () => {
    const clock = testClock();
    const { starts, transport } = recorder(clock);
    const mailer = createIdentityMailer({
      accounts: [identity('a', g60to120), identity('b', g60to120)],
      store: memoryStore(),
      clock,
      log,
      transport,
      random: seeded(7),
    });
    expect(mailer.room?.(clock.now())).toBe(2); // one each at most, however many they may send today
    await drive(mailer, clock, 120);

    const a = gapsOf(starts, 'a');
    const b = gapsOf(starts, 'b');
    expect(a.length + b.length + 2).toBe(120);
    expect(Math.abs(a.length - b.length)).toBeLessThanOrEqual(4);
    for (const gap of [...a, ...b]) {
      expect(gap).toBeGreaterThanOrEqual(60 * s);
      expect(gap).toBeLessThanOrEqual(120 * s);
    }
    // the gaps are spread over the range, not stuck at one end
    expect(Math.min(...a, ...b)).toBeLessThan(70 * s);
    expect(Math.max(...a, ...b)).toBeGreaterThan(110 * s);
    // interleaved: the mailboxes take turns (no long run of one of them)
    const keys = starts.map((x) => x.key).join('');
    expect(keys).not.toMatch(/aaaa|bbbb/);

    const estimate = estimateSendMs({ count: 120, identities: [{ gap: g60to120 }, { gap: g60to120 }] });
    expect(estimate).not.toBeNull();
    expect(Math.abs(estimate! - span(starts)) / span(starts)).toBeLessThan(0.05);
    expect(pacedRatePerMinute([{ gap: g60to120 }, { gap: g60to120 }])).toBeCloseTo(4 / 3, 5);
    // progress.ts's day-by-day estimate at the mailboxes' rate (the smaller of it and the campaign's)
    const first = starts[0]!.at;
    const rate = pacedRatePerMinute([{ gap: g60to120 }, { gap: g60to120 }]);
    const eta = estimateFinish({
      count: 120,
      startMs: first,
      ratePerMinute: rate,
      dailyLimit: null,
      window: null,
      cron: null,
    })!;
    expect(Math.abs(eta - first - span(starts)) / span(starts)).toBeLessThan(0.05);
  });

  it('identities with different gaps: the estimate still matches the schedule within 5 %', async () => {
    const clock = testClock();
    const { starts, transport } = recorder(clock);
    const fast: Gap = { minMs: 20 * s, maxMs: 40 * s };
    const mailer = createIdentityMailer({
      accounts: [identity('a', fast), identity('b', g60to120)],
      store: memoryStore(),
      clock,
      log,
      transport,
      random: seeded(11),
    });
    await drive(mailer, clock, 150);
    for (const gap of gapsOf(starts, 'a')) expect(gap).toBeGreaterThanOrEqual(20 * s);
    for (const gap of gapsOf(starts, 'a')) expect(gap).toBeLessThanOrEqual(40 * s);
    for (const gap of gapsOf(starts, 'b')) expect(gap).toBeGreaterThanOrEqual(60 * s);
    const estimate = estimateSendMs({ count: 150, identities: [{ gap: fast }, { gap: g60to120 }] })!;
    expect(Math.abs(estimate - span(starts)) / span(starts)).toBeLessThan(0.05);
  });

  it('caps still apply on top of the gap; the estimate says when today cannot take them all', async () => {
    const clock = testClock();
    const { starts, transport } = recorder(clock);
    const mailer = createIdentityMailer({
      accounts: [identity('a', g60to120, 3), identity('b', g60to120)],
      store: memoryStore(),
      clock,
      log,
      transport,
      random: seeded(3),
    });
    await drive(mailer, clock, 10);
    expect(starts.filter((x) => x.key === 'a')).toHaveLength(3);
    clock.advance(10 * 60 * s);
    expect(mailer.room?.(clock.now())).toBe(1); // b only: a is at its cap
    expect(
      estimateSendMs({
        count: 5,
        identities: [
          { gap: g60to120, roomToday: 2 },
          { gap: g60to120, roomToday: 2 },
        ],
      }),
    ).toBeNull();
    expect(
      estimateSendMs({ count: 3, identities: [{ gap: g60to120, roomToday: 1 }, { gap: g60to120 }] }),
    ).toBe(90 * s);
  });

  it('a message an identity could not even connect for does not start its gap: it goes to the next at once', async () => {
    const clock = testClock();
    const down = new MailError('transient', undefined, 'ECONNREFUSED', true);
    const { starts, transport } = recorder(clock, (key) => (key === 'a' ? down : undefined));
    const mailer = createIdentityMailer({
      accounts: [identity('a', g60to120), identity('b', g60to120)],
      store: memoryStore(),
      clock,
      log,
      transport,
      random: seeded(5),
    });
    await mailer.send(message(1));
    expect(starts).toEqual([{ key: 'b', at: clock.now() }]);
    expect(mailer.room?.(clock.now())).toBe(1); // a is free (it sent nothing), b waits
  });

  it('no gap: room is what the caps leave, as before', () => {
    const clock = testClock();
    const mailer = createIdentityMailer({
      accounts: [identity('a', null, 5), identity('b', null, 7)],
      store: memoryStore(),
      clock,
      log,
      transport: recorder(clock).transport,
    });
    expect(mailer.room?.(clock.now())).toBe(12);
    expect(pacedRatePerMinute([{ gap: null }])).toBeNull();
    expect(pacedRatePerMinute([{ gap: null }], 30)).toBe(30);
  });
});

describe('pacing of the one transport (SEND_GAP with SMTP_URL or the outbox)', () => {
  it('takes one message, then nothing until its gap is over; a send asked for meanwhile is held (unreachable)', async () => {
    const { dir, cleanup } = tempDir();
    const clock = testClock();
    const mailer = createMailer({
      outboxDir: dir,
      log,
      gap: { minMs: 30 * s, maxMs: 45 * s },
      clock,
      random: seeded(1),
    });
    try {
      expect(mailer.room?.(clock.now())).toBe(1);
      await mailer.send(message(1));
      expect(mailer.room?.(clock.now())).toBe(0);
      const e = await mailer.send(message(2)).catch((x: unknown) => x);
      expect(e).toMatchObject({ kind: 'transient', unreachable: true });
      const at = [clock.now()];
      for (let i = 2; i <= 12; i++) {
        clock.set(nextRoom(mailer, clock.now()));
        at.push(clock.now());
        await mailer.send(message(i));
      }
      for (const gap of at.slice(1).map((t, i) => t - at[i]!)) {
        expect(gap).toBeGreaterThanOrEqual(30 * s);
        expect(gap).toBeLessThanOrEqual(45 * s);
      }
    } finally {
      await mailer.close();
      cleanup();
    }
  });
});

describe('pacing through the send engine (the app, SMTP_URLS to real SMTP sinks)', () => {
  let app: App | undefined;
  let config: (Config & { dir: string }) | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    for (const close of closers.splice(0)) await close();
    if (config) rmSync(config.dir, { recursive: true, force: true });
  });

  it('a campaign to 40 people: each mailbox waits 60–120 s (+ up to one tick), the estimate (tick included) within 5 %', async () => {
    const a = await startSink();
    const b = await startSink();
    closers.push(a.close, b.close);
    const tick = 5 * s;
    config = testConfig({
      MAIL_FROM: 'Ana <ana@acme.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
      PUBLIC_URL: 'https://coldbatch.test',
      SEND_GAP: '60-120s',
      SMTP_URLS: `smtp://alice:pw@127.0.0.1:${a.port},smtp://bob:pw@127.0.0.1:${b.port}`,
    });
    const clock = testClock();
    const mailer = createMailer({
      outboxDir: config.mail.outboxDir,
      accounts: config.mail.accounts,
      identityStore: memoryStore(),
      clock,
      log,
      random: seeded(42),
    });
    app = buildApp(config, { clock, scheduler: false, mailer });
    await app.start();
    await importText(
      app.services,
      `email\n${Array.from({ length: 40 }, (_, i) => `p${i}@example.org`).join('\n')}\n`,
    );
    const c = await app.services.campaigns.create(
      { name: 'Paced', subject: 'Hi', body: 'Hello', sendAt: 'now' },
      'U1',
    );
    for (let i = 0; i < 2000 && (await app.services.campaigns.get(c.id)).status !== 'completed'; i++) {
      await app.services.sending.runDue();
      clock.advance(tick); // one scheduler tick
    }
    expect((await app.services.campaigns.get(c.id)).status).toBe('completed');
    expect(a.received.length + b.received.length).toBe(40);
    const starts = app.db.$client
      .prepare('SELECT account AS key, claimed_at AS at FROM sends ORDER BY claimed_at, id')
      .all() as {
      key: string;
      at: number;
    }[];
    for (const key of new Set(starts.map((x) => x.key))) {
      for (const gap of gapsOf(starts, key)) {
        expect(gap).toBeGreaterThanOrEqual(60 * s);
        expect(gap).toBeLessThanOrEqual(120 * s + tick);
      }
    }
    const estimate = estimateSendMs({
      count: 40,
      identities: config.mail.accounts.map((x) => ({ gap: x.gap ?? null })),
      tickMs: tick,
    })!;
    expect(Math.abs(estimate - span(starts)) / span(starts)).toBeLessThan(0.05);
  });
});
