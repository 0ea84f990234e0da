import type { IdentityHealth, IdentityStore } from '../../mail/identities.js';
import type { Sqlite } from '../client.js';

type HealthRow = {
  key: string;
  first_used_at: number | null;
  consecutive_failures: number;
  skip_until: number | null;
  last_error: string | null;
};

/**
 * The sending identities' state in SQLite: counts from the ledger (sends.account), health in
 * smtp_accounts. Synchronous, as the mail layer's IdentityStore is: the identity mailer reads it
 * once at start and once a day, and writes a row when an account's health changes.
 */
export class SqliteIdentityStore implements IdentityStore {
  private readonly s;
  constructor(sqlite: Sqlite) {
    this.s = {
      counts: sqlite.prepare<[number], { account: string; n: number }>(
        `SELECT account, count(*) AS n FROM sends WHERE account IS NOT NULL AND claimed_at >= ? GROUP BY account`,
      ),
      load: sqlite.prepare<[], HealthRow>(
        'SELECT key, first_used_at, consecutive_failures, skip_until, last_error FROM smtp_accounts',
      ),
      save: sqlite.prepare<[string, number | null, number, number | null, string | null]>(
        `INSERT INTO smtp_accounts (key, first_used_at, consecutive_failures, skip_until, last_error)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET first_used_at = excluded.first_used_at,
           consecutive_failures = excluded.consecutive_failures, skip_until = excluded.skip_until,
           last_error = excluded.last_error`,
      ),
    };
  }

  countSince(since: number): Map<string, number> {
    return new Map(this.s.counts.all(since).map((r) => [r.account, r.n]));
  }

  loadHealth(): IdentityHealth[] {
    return this.s.load.all().map(
      (r): IdentityHealth => ({
        key: r.key,
        firstUsedAt: r.first_used_at,
        consecutiveFailures: r.consecutive_failures,
        skipUntil: r.skip_until,
        lastError: r.last_error,
      }),
    );
  }

  saveHealth(h: IdentityHealth): void {
    this.s.save.run(h.key, h.firstUsedAt, h.consecutiveFailures, h.skipUntil, h.lastError);
  }
}
