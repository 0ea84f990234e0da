import type { Logger } from '../logger.js';
import type { DkimKey } from './dkim.js';
import { type IdentityState, MailError, type Mailer, type OutgoingMessage, type SentInfo } from './mailer.js';
import { type Gap, Pacer } from './pacing.js';
import { SharedCaps } from './shared-caps.js';
import { createSmtpMailer } from './smtp.js';
import { createThreadMailers } from './smtp-thread.js';

/** One SMTP account of SMTP_URLS: its key (host:port:user, never the password), URL and limits. */
export type IdentityConfig = {
  key: string;
  /** The SMTP URL without its `#cap=…&warmup=…` fragment. */
  url: string;
  /** Messages a day at most; null: no cap. */
  cap: number | null;
  /** Warm-up: the cap on day N of use is min(cap, warmup × N); null: no ramp. */
  warmup: number | null;
  /** Its DKIM key (DKIM_*, `#dkim=`); absent or null: it sends unsigned. */
  dkim?: DkimKey | null;
  /** The random wait between the starts of two of its messages (SEND_GAP, `#gap=`); absent or null: none. */
  gap?: Gap | null;
};

/** What an account keeps across restarts (the smtp_accounts row). */
export type IdentityHealth = {
  key: string;
  firstUsedAt: number | null;
  consecutiveFailures: number;
  skipUntil: number | null;
  lastError: string | null;
};

/** Where the identities read and keep their state: the ledger's per-account counts and smtp_accounts. */
export interface IdentityStore {
  /** Messages each account took since `since` (sends.account by claimed_at). */
  countSince(since: number): Map<string, number>;
  loadHealth(): IdentityHealth[];
  saveHealth(h: IdentityHealth): void;
  /**
   * Several processes sending through the same accounts (Postgres): takes one message of a capped
   * account's `day` (UTC day start) in the shared count; its count after taking it, or null when
   * the day is at `cap` (nothing taken). Absent: one process, the count in memory is exact.
   */
  reserve?(key: string, day: number, cap: number): Promise<number | null>;
  /** Gives back one reserved message that never left (its account could not be reached). */
  release?(key: string, day: number): Promise<void>;
}

export type IdentityOptions = {
  accounts: IdentityConfig[];
  store: IdentityStore;
  clock: { now(): number };
  log: Logger;
  maxConnections?: number;
  ratePerMinute?: number;
  /** Transient or unreachable failures in a row before an account is skipped (default 5). */
  failuresBeforeSkip?: number;
  /** First cool-down (default 10 min); doubles with each further failure, up to a day. */
  coolDownMs?: number;
  /** The transport of one account (tests); default: a pooled SMTP mailer on its URL. */
  transport?: (account: IdentityConfig) => Mailer;
  /** Run every account's pool in one worker thread (the app), not on the calling thread. */
  thread?: boolean;
  /** The random source of the gaps (tests); default Math.random. */
  random?: () => number;
};

const dayMs = 86_400_000;
/** Start of the UTC day of a moment: account caps count per UTC day. */
const dayOf = (ms: number) => Math.floor(ms / dayMs) * dayMs;

type Account = { config: IdentityConfig; mailer: Mailer; health: IdentityHealth };

/** Today's cap of an account: min(cap, warmup × day of use), day 1 being the day it was first used. */
export function capOn(config: IdentityConfig, firstUsedAt: number | null, now: number): number | null {
  if (config.warmup === null) return config.cap;
  const day = firstUsedAt === null ? 1 : Math.floor((dayOf(now) - dayOf(firstUsedAt)) / dayMs) + 1;
  const ramp = config.warmup * Math.max(1, day);
  return config.cap === null ? ramp : Math.min(config.cap, ramp);
}

/**
 * Several SMTP accounts behind one Mailer: each message goes to the next account (round-robin)
 * that has room today, is not skipped and is not waiting out its gap (`gap`: a random wait
 * between the starts of two of its messages, so `room` counts it once at most). Counts are read
 * from the ledger once a day and kept in memory (several instances: a capped account's message is
 * first reserved in the store's shared count). An account failing `failuresBeforeSkip` times in
 * a row (4xx, dropped, unreachable) is skipped for a cool-down that doubles, kept in smtp_accounts.
 * A message refused by an unreachable account (nothing left this machine) goes on to the next
 * account at once (and its gap does not start: it sent nothing).
 */
export function createIdentityMailer(opts: IdentityOptions): Mailer {
  const log = opts.log.child({ module: 'mail', transport: 'identities' });
  const threshold = opts.failuresBeforeSkip ?? 5;
  const coolDown = opts.coolDownMs ?? 600_000;
  const saved = new Map(opts.store.loadHealth().map((h) => [h.key, h]));
  const poolOptions = (config: IdentityConfig) => ({
    url: config.url,
    ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
    ...(opts.ratePerMinute ? { ratePerMinute: opts.ratePerMinute } : {}),
    ...(config.dkim ? { dkim: config.dkim } : {}),
  });
  // The app builds and writes messages off the main thread: one thread holds every account's pool.
  const threaded =
    opts.thread && !opts.transport
      ? createThreadMailers(
          opts.accounts.map((config) => ({ options: poolOptions(config), account: config.key })),
          opts.log,
        )
      : null;
  const accounts: Account[] = opts.accounts.map((config, i) => ({
    config,
    mailer:
      opts.transport?.(config) ??
      threaded?.[i] ??
      createSmtpMailer({ ...poolOptions(config), log: opts.log.child({ account: config.key }) }),
    health: saved.get(config.key) ?? {
      key: config.key,
      firstUsedAt: null,
      consecutiveFailures: 0,
      skipUntil: null,
      lastError: null,
    },
  }));
  let day = Number.NaN;
  let counts = new Map<string, number>();
  let cursor = 0;
  const pacer = new Pacer(opts.random);

  /** Today's counts: read from the ledger when the day changes, then kept in memory. */
  const today = (now: number) => {
    if (dayOf(now) !== day) {
      day = dayOf(now);
      counts = opts.store.countSince(day);
    }
    return counts;
  };
  const skipped = (a: Account, now: number) => a.health.skipUntil !== null && now < a.health.skipUntil;
  /** What it may take now: today's cap left; with a gap, one at most, none while it waits. */
  const roomOf = (a: Account, now: number) => {
    if (skipped(a, now) || !pacer.ready(a.config.key, now)) return 0;
    const cap = capOn(a.config, a.health.firstUsedAt, now);
    const left =
      cap === null ? Number.POSITIVE_INFINITY : Math.max(0, cap - (today(now).get(a.config.key) ?? 0));
    return a.config.gap ? Math.min(1, left) : left;
  };
  const pick = (now: number, tried: Set<string>) => {
    for (let i = 0; i < accounts.length; i++) {
      const idx = (cursor + i) % accounts.length;
      const a = accounts[idx]!;
      if (tried.has(a.config.key) || roomOf(a, now) <= 0) continue;
      cursor = idx + 1;
      return a;
    }
    return undefined;
  };
  /** Adds to a count (in the map of the day it was counted in: a later day's is left alone). */
  const add = (m: Map<string, number>, key: string, by: number) => m.set(key, (m.get(key) ?? 0) + by);
  const { reserve: reserveIn, release: releaseIn } = opts.store;
  const sharedCaps = reserveIn
    ? new SharedCaps(
        {
          reserve: reserveIn.bind(opts.store),
          ...(releaseIn ? { release: releaseIn.bind(opts.store) } : {}),
        },
        log,
      )
    : null;
  const failed = (a: Account, e: MailError, now: number) => {
    const h = a.health;
    h.consecutiveFailures += 1;
    h.lastError = e.response.slice(0, 300);
    if (h.consecutiveFailures >= threshold) {
      const doublings = Math.min(h.consecutiveFailures - threshold, 20);
      h.skipUntil = now + Math.min(coolDown * 2 ** doublings, dayMs);
      log.warn(
        {
          account: a.config.key,
          failures: h.consecutiveFailures,
          skipUntil: new Date(h.skipUntil).toISOString(),
        },
        'sending identity skipped after repeated failures',
      );
    }
    opts.store.saveHealth(h);
  };
  const succeeded = (a: Account) => {
    const h = a.health;
    if (h.consecutiveFailures === 0 && h.skipUntil === null) return;
    if (h.skipUntil !== null) log.info({ account: a.config.key }, 'sending identity works again');
    h.consecutiveFailures = 0;
    h.skipUntil = null;
    opts.store.saveHealth(h);
  };

  log.info({ accounts: accounts.map((a) => a.config.key) }, 'sending identities ready');

  return {
    kind: 'smtp',
    async send(m: OutgoingMessage): Promise<SentInfo> {
      const tried = new Set<string>();
      let unreachable: MailError | undefined;
      // A follow-up goes through the identity of the person's previous step (any, if it is gone).
      const pinned = m.account === undefined ? undefined : accounts.find((x) => x.config.key === m.account);
      for (;;) {
        const now = opts.clock.now();
        const a = pinned
          ? tried.has(pinned.config.key) || roomOf(pinned, now) <= 0
            ? undefined
            : pinned
          : pick(now, tried);
        if (!a) {
          // Nothing was sent: the engine keeps the row for later without spending an attempt.
          throw (
            unreachable ??
            new MailError(
              'transient',
              undefined,
              pinned
                ? 'the sending identity of this thread is at its daily cap, skipped or waiting between two messages'
                : 'every sending identity is at its daily cap, skipped or waiting between two messages',
              true,
              true,
            )
          );
        }
        tried.add(a.config.key);
        if (a.health.firstUsedAt === null) {
          a.health.firstUsedAt = now;
          opts.store.saveHealth(a.health);
        }
        const counted = today(now);
        add(counted, a.config.key, 1); // counted before any await: concurrent sends see it
        const unpace = pacer.start(a.config.key, a.config.gap ?? null, now);
        const cap = capOn(a.config, a.health.firstUsedAt, now);
        const shared = cap !== null ? sharedCaps : null;
        // the cluster filled its cap: nothing sent, try the next account
        if (shared && !(await shared.reserve(a.config.key, dayOf(now), cap!, counted, unpace))) continue;
        try {
          const info = await a.mailer.send(m);
          succeeded(a);
          return { ...info, account: a.config.key };
        } catch (e) {
          if (!(e instanceof MailError)) throw e;
          // a 5xx about the recipient (or a possible delivery) says nothing against the account
          if (e.kind === 'transient') failed(a, e, opts.clock.now());
          if (!e.unreachable) throw e;
          add(counted, a.config.key, -1); // never reached: it took nothing, try the next account
          await shared?.release(a.config.key, dayOf(now));
          unpace();
          unreachable = e;
        }
      }
    },
    room(now: number): number {
      return accounts.reduce((sum, a) => sum + roomOf(a, now), 0);
    },
    identities(now: number): IdentityState[] {
      return accounts.map((a) => ({
        key: a.config.key,
        sentToday: today(now).get(a.config.key) ?? 0,
        capToday: capOn(a.config, a.health.firstUsedAt, now),
        skippedUntil: skipped(a, now) ? new Date(a.health.skipUntil ?? now).toISOString() : null,
        consecutiveFailures: a.health.consecutiveFailures,
      }));
    },
    async verify(): Promise<boolean> {
      const ok = await Promise.all(accounts.map((a) => a.mailer.verify()));
      return ok.some(Boolean);
    },
    async close(): Promise<void> {
      await Promise.all(accounts.map((a) => a.mailer.close()));
    },
  };
}
