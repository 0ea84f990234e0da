import type { Logger } from '../logger.js';
import { MailError } from './mailer.js';

/** What SharedCaps needs of the identities' store (IdentityStore.reserve/release). */
export type CapStore = {
  reserve(key: string, day: number, cap: number): Promise<number | null>;
  release?(key: string, day: number): Promise<void>;
};

/**
 * The daily caps of sending identities when several processes send through the same accounts
 * (Postgres): each message of a capped account is first reserved in the store's shared count, and
 * the in-memory count (what `room` and `identities` read) follows the answers. Per day and
 * account it keeps the cluster's count as known (the highest answer: they arrive in any order; a
 * refusal means the cap) and the reservations awaiting an answer it does not cover (a refusal
 * covers those before it); memory shows the sum.
 */
export class SharedCaps {
  private readonly shared = new Map<string, { known: number; pending: number; gen: number }>();

  constructor(
    private readonly store: CapStore,
    private readonly log: Logger,
  ) {}

  /**
   * Takes one of the day's cap in the cluster's count; false: the cluster is at the cap. `counts`
   * is the day's in-memory map, this message already counted in it. Refused or failed, nothing
   * was sent: `unpace` gives the gap back, and a failure is transient and unreachable (the engine
   * keeps the row without spending an attempt).
   */
  async reserve(
    key: string,
    day: number,
    cap: number,
    counts: Map<string, number>,
    unpace: () => void,
  ): Promise<boolean> {
    const id = `${day}:${key}`;
    if (!this.shared.has(id))
      for (const k of this.shared.keys()) if (!k.startsWith(`${day}:`)) this.shared.delete(k);
    let s = this.shared.get(id);
    if (!s) {
      s = { known: (counts.get(key) ?? 1) - 1, pending: 0, gen: 0 };
      this.shared.set(id, s);
    }
    const entry = s;
    const gen = entry.gen;
    entry.pending += 1;
    const used = await this.store
      .reserve(key, day, cap)
      .catch((e: unknown) => {
        unpace();
        this.log.warn({ err: e, account: key }, 'could not reserve a sending identity’s message');
        throw new MailError('transient', undefined, 'the daily count could not be reserved', true);
      })
      .finally(() => {
        if (gen === entry.gen) entry.pending -= 1;
        counts.set(key, entry.known + entry.pending);
      });
    if (used === null) {
      unpace();
      Object.assign(entry, { known: Math.max(entry.known, cap), pending: 0, gen: entry.gen + 1 });
    } else entry.known = Math.max(entry.known, used);
    counts.set(key, entry.known + entry.pending);
    return used !== null;
  }

  /**
   * A reserved message that never left (its account could not be reached): given back to the
   * cluster. A lost release costs one message that day, never one too many.
   */
  async release(key: string, day: number): Promise<void> {
    const s = this.shared.get(`${day}:${key}`);
    if (s) s.known -= 1;
    await this.store.release?.(key, day).catch(() => undefined);
  }
}
