import type { FigureRequest, FigureRows } from '../../core/audience/audience-store.js';
import type { Sqlite } from '../client.js';
import type { CountedFigures } from './count-reader.js';

/** Where the database stands: rows this connection changed, and commits other connections made. */
type Version = { changes: number; others: number };

/** Figures, the state of the database they were counted in, and the last time they were known to hold. */
type Entry = { rows: FigureRows; version: Version; at: number; seq: number };

/** A stale figure is counted again in the background once it is this old (one count at a time per campaign). */
const refreshAfterMs = 1000;

/** How many campaigns' figures are kept (the oldest kept goes first). */
const maxEntries = 500;

const same = (a: Version, b: Version) => a.changes === b.changes && a.others === b.others;

/** What kept figures hold beyond the ledger: the audience, a sequence's steps. */
type Holds = { audience: boolean; sequence: boolean };

/** Whether figures that hold `h` answer the request. */
const answers = (h: Holds, req: FigureRequest) =>
  (h.audience || !req.audience) && (h.sequence || !req.sequence);

const holds = (rows: FigureRows): Holds => ({
  audience: rows.audience !== null,
  sequence: rows.sequence !== undefined && rows.sequence !== null,
});

/**
 * Figures counted off the main thread (with a sequence's steps when asked), kept per campaign (''
 * for a campaign not saved yet) with the state of the database they were counted in
 * (`total_changes()` of the main connection and `data_version`, which moves when another
 * connection commits: both O(1)). While nothing was written since, kept figures are exact and
 * answered at once (as of now); otherwise a request that accepts stale figures gets them (at most
 * `maxStaleMs` old, same active batch) and one count per campaign refreshes them in the
 * background; any other request waits for a count (without blocking the event loop: the count
 * runs in the worker thread). Figures kept without a sequence's steps do not answer a request for
 * them.
 */
export class FigureCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<
    string,
    { version: Version; holds: Holds; promise: Promise<FigureRows> }
  >();
  private seq = 0;
  private readonly s;

  constructor(
    sqlite: Sqlite,
    private readonly count: (
      campaignId: string | null,
      audience: boolean,
      sequence: boolean,
    ) => Promise<CountedFigures>,
  ) {
    this.s = {
      version: sqlite.prepare<[], Version>(
        'SELECT total_changes() AS changes, data_version AS others FROM pragma_data_version',
      ),
      active: sqlite.prepare<[], { id: string }>(`SELECT id FROM batches WHERE status = 'active'`),
    };
  }

  /** The figures of a campaign (null: not saved yet) as the request accepts them. */
  async get(campaignId: string | null, req: FigureRequest): Promise<FigureRows> {
    const key = campaignId ?? '';
    const version = this.version();
    const e = this.entries.get(key);
    if (e && answers(holds(e.rows), req)) {
      // Nothing was written since: the figures hold now.
      if (same(e.version, version)) {
        e.at = Math.max(e.at, req.now);
        return { ...e.rows, countedAt: e.at };
      }
      const age = req.now - e.at;
      if (req.maxStaleMs > 0 && age <= req.maxStaleMs && this.sameBatch(e.rows)) {
        if (age >= refreshAfterMs && !this.inflight.has(key)) {
          this.load(key, campaignId, req, version).catch(() => {
            // a failed background count: the next request that waits for one sees the error
          });
        }
        return e.rows;
      }
    }
    return this.load(key, campaignId, req, version);
  }

  /**
   * A campaign just saved has the figures of `reach` (counted for '' moments before) with no
   * ledger rows. They stay exact when the only change since they were counted is the campaign's
   * own row; otherwise they count as stale from the start.
   */
  seed(campaignId: string, reach: FigureRows): void {
    const r = this.entries.get('');
    if (!r || r.rows.audience !== reach.audience || reach.audience === null) return;
    const now = this.version();
    const onlyTheInsert = now.others === r.version.others && now.changes === r.version.changes + 1;
    this.remember(campaignId, {
      // A campaign just saved has no ledger rows and nobody waiting: its steps are exact too.
      rows: {
        sends: [],
        audience: reach.audience,
        sequence: { steps: [], waiting: 0, nextDueAt: null },
        countedAt: reach.countedAt,
      },
      version: onlyTheInsert ? now : r.version,
      at: reach.countedAt,
      seq: ++this.seq,
    });
  }

  private version(): Version {
    return this.s.version.get() ?? { changes: 0, others: 0 };
  }

  private sameBatch(rows: FigureRows): boolean {
    if (rows.audience === null) return true;
    return (rows.audience.batch?.id ?? null) === (this.s.active.get()?.id ?? null);
  }

  /** One count per campaign and state of the database: a request for the same joins the one under way. */
  private load(key: string, campaignId: string | null, req: FigureRequest, version: Version) {
    const f = this.inflight.get(key);
    if (f && same(f.version, version) && answers(f.holds, req)) return f.promise;
    const seq = ++this.seq;
    const sequence = req.sequence === true;
    const promise: Promise<FigureRows> = this.count(campaignId, req.audience, sequence)
      .then((counted) => {
        const rows: FigureRows = { ...counted, countedAt: req.now };
        // A count that finished after a newer one started is not kept over it.
        if ((this.entries.get(key)?.seq ?? 0) < seq) this.remember(key, { rows, version, at: req.now, seq });
        return rows;
      })
      .finally(() => {
        if (this.inflight.get(key)?.promise === promise) this.inflight.delete(key);
      });
    this.inflight.set(key, { version, holds: { audience: req.audience, sequence }, promise });
    return promise;
  }

  private remember(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
