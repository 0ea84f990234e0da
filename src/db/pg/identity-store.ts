import type { Logger } from '../../logger.js';
import type { IdentityHealth, IdentityStore } from '../../mail/identities.js';
import { type PgDb, rows } from './client.js';

type HealthRow = {
  key: string;
  first_used_at: number | null;
  consecutive_failures: number;
  skip_until: number | null;
  last_error: string | null;
};

const dayMs = 86_400_000;

/**
 * The sending identities' state on Postgres: counts from the ledger (sends.account), health in
 * smtp_accounts. The mail layer's IdentityStore is synchronous (it reads once at start and once a
 * day, and writes a row when an account's health changes), so this one is loaded before the
 * mailer is built (`PgIdentityStore.load`) and then answers from what it read:
 * - a health change is written behind, in order, one statement at a time (a lost write costs a
 *   retried cool-down, never a message);
 * - the counts of a new day are read in the background when the mailer first asks for them; until
 *   they arrive the day counts from zero (at the turn of the day the ledger holds nothing newer).
 * Daily caps are the exception: several instances may send through one account, so each message
 * of a capped account first takes one of the day in `identity_days` (`reserve`), atomically.
 */
export class PgIdentityStore implements IdentityStore {
  private health = new Map<string, IdentityHealth>();
  private counts = new Map<string, number>();
  private countedSince = Number.NaN;
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: PgDb,
    private readonly log: Logger,
  ) {}

  /** Reads smtp_accounts and today's per-account counts (UTC day of `now`). */
  static async load(db: PgDb, log: Logger, now: number): Promise<PgIdentityStore> {
    const store = new PgIdentityStore(db, log);
    const day = Math.floor(now / dayMs) * dayMs;
    const [health, counts] = await Promise.all([
      rows<HealthRow>(
        db.$client,
        'SELECT key, first_used_at, consecutive_failures, skip_until, last_error FROM smtp_accounts',
      ),
      PgIdentityStore.readCounts(db, day),
    ]);
    for (const r of health) {
      store.health.set(r.key, {
        key: r.key,
        firstUsedAt: r.first_used_at,
        consecutiveFailures: r.consecutive_failures,
        skipUntil: r.skip_until,
        lastError: r.last_error,
      });
    }
    store.counts = counts;
    store.countedSince = day;
    return store;
  }

  private static async readCounts(db: PgDb, since: number): Promise<Map<string, number>> {
    const r = await rows<{ account: string; n: number }>(
      db.$client,
      `SELECT account, count(*) AS n FROM sends WHERE account IS NOT NULL AND claimed_at >= $1 GROUP BY account`,
      [since],
    );
    return new Map(r.map((x) => [x.account, x.n]));
  }

  countSince(since: number): Map<string, number> {
    if (since === this.countedSince) return new Map(this.counts);
    this.countedSince = since;
    this.counts = new Map();
    const counts = this.counts;
    // The mailer keeps the map it is handed and adds to it: merge what the ledger says into it.
    PgIdentityStore.readCounts(this.db, since).then(
      (read) => {
        for (const [k, n] of read) counts.set(k, Math.max(counts.get(k) ?? 0, n));
      },
      (e: unknown) => this.log.warn({ err: e }, 'could not read the sending identities’ counts'),
    );
    return counts;
  }

  /**
   * Takes one message of `account`'s cap for `day` (UTC day start): its count after taking it, or
   * null when the cluster is at `cap` (nothing taken). One statement, so concurrent callers on any
   * instance never take more than `cap`. The day's first call starts the row from the ledger (what
   * countSince counts), so a cluster upgraded mid-day starts from what was really sent; the
   * ledger is counted only then (CASE runs the count only when the row is missing).
   */
  async reserve(account: string, day: number, cap: number): Promise<number | null> {
    const r = await rows<{ used: number }>(
      this.db.$client,
      `INSERT INTO identity_days (account, day, used)
       SELECT $1, $2, s.n + 1 FROM (
         SELECT CASE WHEN EXISTS (SELECT 1 FROM identity_days WHERE account = $1 AND day = $2) THEN 0
           ELSE (SELECT count(*) FROM sends WHERE account = $1 AND claimed_at >= $2) END AS n
       ) s WHERE s.n < $3
       ON CONFLICT (account, day) DO UPDATE SET used = identity_days.used + 1
         WHERE identity_days.used < $3
       RETURNING used`,
      [account, day, cap],
    );
    return r[0]?.used ?? null;
  }

  /** Gives back one message of `day` that never left (its account could not be reached). */
  async release(account: string, day: number): Promise<void> {
    await this.db.$client.query(
      'UPDATE identity_days SET used = used - 1 WHERE account = $1 AND day = $2 AND used > 0',
      [account, day],
    );
  }

  loadHealth(): IdentityHealth[] {
    return [...this.health.values()].map((h) => ({ ...h }));
  }

  saveHealth(h: IdentityHealth): void {
    const copy = { ...h };
    this.health.set(h.key, copy);
    this.writes = this.writes
      .then(() =>
        this.db.$client.query(
          `INSERT INTO smtp_accounts (key, first_used_at, consecutive_failures, skip_until, last_error)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (key) DO UPDATE SET first_used_at = excluded.first_used_at,
             consecutive_failures = excluded.consecutive_failures, skip_until = excluded.skip_until,
             last_error = excluded.last_error`,
          [copy.key, copy.firstUsedAt, copy.consecutiveFailures, copy.skipUntil, copy.lastError],
        ),
      )
      .then(
        () => undefined,
        (e: unknown) =>
          this.log.warn({ err: e, account: copy.key }, 'could not save a sending identity’s health'),
      );
  }

  /** Resolves when every health change so far is written (stop, tests). */
  flush(): Promise<void> {
    return this.writes;
  }
}
