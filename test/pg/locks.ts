import type { Query } from './dialects.js';

/**
 * Resolves once some session of the test's database waits for a lock: the call under test has
 * reached the wait (bounded: 5 s, then throws).
 */
export async function someoneWaitsForALock(q: Query): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const [r] = await q<{ n: number }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (Number(r?.n ?? 0) > 0) return;
    await new Promise((done) => setTimeout(done, 10));
  }
  throw new Error('nobody waited for a lock');
}
