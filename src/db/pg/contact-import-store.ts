import {
  type ChunkWritten,
  type ContactImportStore,
  type ContactRow,
  hashBytes,
  type ImportChunk,
  noneWritten,
} from '../../core/imports/contact-import-store.js';
import { inTransaction, type PgDb, type PgExec, rows } from './client.js';
import { classify, type Found, raced } from './import-rows.js';

/**
 * What a chunk reads before it writes, in one statement outside its transaction: the chunk's
 * hashes that are suppressed (`s`) and who holds each of its addresses (`h`). Both lookups are
 * `= ANY(array)` probes of a unique index. The hashes travel as one binary value (hashBytes each,
 * in row order; node-postgres sends a Buffer as raw bytes) cut apart by the server into the array
 * once: a text array is twice the bytes, parsed element by element, and joining the chunk to the
 * suppressions instead made the planner hash the whole table (in parallel workers), 70–130 ms a
 * chunk at 50,000 suppressions. Holders are looked up for every row, suppressed ones too: those
 * are counted as suppressed whoever holds them, so the outcome is the same as looking up only the
 * rows kept.
 */
const lookupSql = `SELECT 's' AS k, NULL AS a, email_hash AS h, NULL AS b FROM suppressions WHERE email_hash = ANY(ARRAY(
    SELECT substring($1::bytea FROM g * ${hashBytes} + 1 FOR ${hashBytes})
      FROM generate_series(0, length($1::bytea) / ${hashBytes} - 1) AS g))
  UNION ALL
  SELECT 'h', email, NULL, batch_id FROM contacts WHERE email = ANY($2::text[])`;

/**
 * Opens the chunk's transaction in one round trip: its commit does not wait for the disk, it
 * takes domain_suppressions in SHARE ROW EXCLUSIVE mode, then reads the whole-domain rules (the
 * savepoint is where an INSERT that met a race goes back to, keeping the lock).
 */
const beginSql = `BEGIN; SET LOCAL synchronous_commit = off;
  LOCK TABLE domain_suppressions IN SHARE ROW EXCLUSIVE MODE;
  SAVEPOINT looked; SELECT pattern FROM domain_suppressions`;

/**
 * The new rows in one statement, in the chunk's order (ids ascending as on SQLite), and the
 * batch's contact_count raised by as many as were added, in the same statement. `onConflict`:
 * rows whose address another transaction added meanwhile are left out (ON CONFLICT costs about a
 * sixth of the INSERT, so it is used only when the chunk is written again after such a race).
 */
const insertSql = (onConflict: boolean) => `WITH added AS (
    INSERT INTO contacts (email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at)
    SELECT u.email, substring($2::bytea FROM (u.n::int - 1) * ${hashBytes} + 1 FOR ${hashBytes}),
           u.name, u.company, u.position, u.source, 'active', $7, $8, $8
      FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           WITH ORDINALITY AS u(email, name, company, position, source, n)
     ORDER BY u.n
    ${onConflict ? 'ON CONFLICT (email) DO NOTHING' : ''}
    RETURNING 1
  ), counted AS (
    UPDATE batches SET contact_count = contact_count + (SELECT count(*) FROM added) WHERE id = $7
  )
  SELECT count(*) AS n FROM added`;
const insertFirst = insertSql(false);
const insertAgain = insertSql(true);

/** A chunk under way, as the next one of its import sees it. */
type Link = {
  /** The addresses it added, once committed (rejects when it failed). */
  added: Promise<Set<string>>;
  /** Settles when the chunk before it has ended: after that its lookups may start. */
  prior: Promise<unknown>;
  /**
   * Settles once it holds the lock (or has ended): the next chunk opens its transaction only
   * then, so that its lock waits behind this one's and never takes it first (it would then wait,
   * holding the lock, for this chunk, which waits for the lock: a deadlock).
   */
  locked: Promise<void>;
};

/**
 * The Postgres ContactImportStore, never a query per row. A chunk is one lookup statement, then
 * one transaction (the lock and the rules, one INSERT … SELECT FROM unnest of every new row, the
 * commit). Two chunks of an import are under way at once (chunksInFlight): the next one's lookup
 * runs on another connection while this one's rows go in, and counts the addresses this one adds
 * (not committed when it looked) as repeated in the file; an import's transactions still run one
 * after another, in file order. The counting rules are the SQLite store's.
 *
 * Several instances (or two imports) may write chunks at once, where SQLite had one writer:
 * - A chunk's transaction takes domain_suppressions in SHARE ROW EXCLUSIVE mode, then reads the
 *   rules it counts with. Adding a rule (PgSuppressionStore.addDomainRule) writes that table, so
 *   it waits for the chunk under way, then suppresses the contacts it added; a chunk that locks
 *   meanwhile waits for the rule and leaves its domain out. Without it, a chunk that read the
 *   rules just before a rule was added could add contacts of that domain after the rule's
 *   transaction looked for them: never suppressed.
 * - The same lock makes chunks of concurrent imports (any instance) take turns, as every write
 *   did on SQLite: two imports of the same addresses in opposite orders would otherwise wait on
 *   each other's uncommitted rows in the unique index, a deadlock.
 * - An address another writer adds between a chunk's lookup and its INSERT (the lookup runs
 *   before the lock): the INSERT fails on the unique index (after waiting for that commit), and
 *   the chunk goes back to a savepoint taken before it (keeping the lock) and is looked up and
 *   written again, this time with ON CONFLICT DO NOTHING. Such a row is counted as existing
 *   (SQLite, which never sees this, counts a left-out row as repeated).
 * - A suppression by hash added while a chunk runs: the chunk counts what it read. Mailing checks
 *   the hashes at send time, so the address is never mailed either way.
 */
export class PgContactImportStore implements ContactImportStore {
  /**
   * Postgres runs the chunk's statements in its own process, so a transaction holds the event
   * loop only while its parameters are built: larger ones pay the round trips and the commit
   * fewer times (SQLite's 1,000 bound how long its synchronous transactions block); 5,000 gained
   * no clear speed (29,643 against 28,644 rows/s) and held ~15 MB more at the peak.
   */
  readonly rowsPerCall = 2000;
  readonly chunksInFlight = 2;
  /** Each import's last chunk under way, by batch. */
  private readonly last = new Map<string, Link>();

  constructor(private readonly db: PgDb) {}

  async writeChunk(chunk: ImportChunk): Promise<ChunkWritten> {
    const before = this.last.get(chunk.batchId);
    let hasLock = () => {};
    const locked = new Promise<void>((resolve) => {
      hasLock = resolve;
    });
    const written = this.pipelined(chunk, before, hasLock);
    void written.finally(hasLock).catch(() => {});
    const link: Link = {
      added: written.then((w) => w.added),
      prior: before ? before.added.catch(() => {}) : Promise.resolve(),
      locked,
    };
    link.added.catch(() => {}); // the next chunk, or this call's caller, sees the error
    this.last.set(chunk.batchId, link);
    try {
      return (await written).out;
    } finally {
      if (this.last.get(chunk.batchId) === link) this.last.delete(chunk.batchId);
    }
  }

  private async pipelined(
    chunk: ImportChunk,
    before: Link | undefined,
    hasLock: () => void,
  ): Promise<{ out: ChunkWritten; added: Set<string> }> {
    const all: ContactRow[] = [];
    for (const part of chunk.parts) for (const r of part.rows) all.push(r);
    // The chunk before the last one has committed: its rows are seen by this lookup.
    await before?.prior;
    const hashes = Buffer.concat(
      chunk.parts.map((p) => Buffer.from(p.hashes.buffer, p.hashes.byteOffset, p.rows.length * hashBytes)),
    );
    const found = all.length > 0 ? await this.lookup(this.db.$client, all, hashes) : [];
    return this.write(chunk, all, hashes, found, before, hasLock);
  }

  private lookup(exec: PgExec, all: ContactRow[], hashes: Buffer): Promise<Found[]> {
    return rows<Found>(exec, lookupSql, [hashes, [...new Set(all.map((r) => r.email))]]);
  }

  /** The chunk's transaction: counts its rows and inserts the new ones. */
  private async write(
    chunk: ImportChunk,
    all: ContactRow[],
    hashes: Buffer,
    found: Found[],
    before: Link | undefined,
    hasLock: () => void,
  ): Promise<{ out: ChunkWritten; added: Set<string> }> {
    if (all.length === 0) {
      await before?.added;
      return { out: noneWritten(), added: new Set() };
    }
    // The chunk commits without waiting for its WAL to reach the disk (synchronous_commit off for
    // this transaction only): a crash may lose the last chunks' commits, never a later one without
    // an earlier one, and the import is not done until its batch leaves `importing` in a normal,
    // flushed commit (which flushes every chunk before it). A batch a crash leaves `importing` is
    // deleted by the sweep, so nothing half-written is ever used.
    //
    // The transaction opens once the last chunk holds the lock, before it has committed: this
    // chunk's lock waits in the server for that commit, so its INSERT follows with no round trip
    // between.
    await before?.locked;
    return inTransaction(
      this.db.$client,
      async (tx, begun) => {
        hasLock();
        // The last chunk's new addresses: not committed when this one looked, maybe. (Throws if
        // that chunk failed: then this one writes nothing.)
        const addedBefore = (await before?.added) ?? new Set<string>();
        const patterns = begun.at(-1)!.rows.map((r: { pattern: string }) => r.pattern);
        try {
          return await this.insertNew(tx, chunk, all, hashes, found, patterns, addedBefore, false);
        } catch (e) {
          if (!raced(e)) throw e;
          // Another writer (an import into another batch, maybe in another instance, or a contact
          // added by hand) added one of these addresses after the lookup: back to before the
          // INSERT (the lock kept), looked up again and written leaving out any address taken
          // after that.
          await tx.query('ROLLBACK TO SAVEPOINT looked');
          const again = await this.lookup(tx, all, hashes);
          return this.insertNew(tx, chunk, all, hashes, again, patterns, addedBefore, true);
        }
      },
      beginSql,
    );
  }

  /** Counts the chunk's rows from what was looked up and inserts the new ones. */
  private async insertNew(
    tx: PgExec,
    chunk: ImportChunk,
    all: ContactRow[],
    hashes: Buffer,
    found: Found[],
    patterns: string[],
    addedBefore: Set<string>,
    again: boolean,
  ): Promise<{ out: ChunkWritten; added: Set<string> }> {
    const out = noneWritten();
    const added = new Set<string>();
    const fresh = classify(chunk, all, hashes, found, patterns, addedBefore, out);
    if (fresh.length === 0) return { out, added };
    const n = await this.insert(tx, fresh, all, hashes, chunk, again);
    out.imported += n;
    for (const i of fresh) added.add(all[i]!.email);
    if (n < fresh.length) await this.lostRaces(tx, fresh, all, chunk, out, n, added);
    return { out, added };
  }

  /** Inserts the rows `fresh` (indexes into all) in one statement; returns how many it added. */
  private async insert(
    tx: PgExec,
    fresh: number[],
    all: ContactRow[],
    hashes: Buffer,
    { batchId, now }: ImportChunk,
    again: boolean,
  ): Promise<number> {
    const n = fresh.length;
    const emails = new Array<string>(n);
    const names = new Array<string | null>(n);
    const companies = new Array<string | null>(n);
    const positions = new Array<string | null>(n);
    const sources = new Array<string | null>(n);
    const freshHashes = Buffer.allocUnsafe(n * hashBytes);
    for (let k = 0; k < n; k++) {
      const i = fresh[k]!;
      const r = all[i]!;
      emails[k] = r.email;
      names[k] = r.name;
      companies[k] = r.company;
      positions[k] = r.position;
      sources[k] = r.source;
      hashes.copy(freshHashes, k * hashBytes, i * hashBytes, (i + 1) * hashBytes);
    }
    const [result] = await rows<{ n: number }>(tx, again ? insertAgain : insertFirst, [
      emails,
      freshHashes,
      names,
      companies,
      positions,
      sources,
      batchId,
      now,
    ]);
    return result?.n ?? 0;
  }

  /**
   * Rows new when the chunk looked again but left out by its second INSERT: another transaction
   * added the address meanwhile and committed.
   * Counted as existing and looked up again (a new statement sees that commit): they are not
   * among the addresses this chunk added, and their batches are named when the import asks.
   */
  private async lostRaces(
    tx: PgExec,
    fresh: number[],
    all: ContactRow[],
    { batchId, holders }: ImportChunk,
    out: ChunkWritten,
    inserted: number,
    added: Set<string>,
  ): Promise<void> {
    out.existing += fresh.length - inserted;
    const taken = await rows<{ email: string; batchId: string }>(
      tx,
      `SELECT email, batch_id AS "batchId" FROM contacts WHERE email = ANY($1::text[]) AND batch_id <> $2`,
      [fresh.map((i) => all[i]!.email), batchId],
    );
    for (const { email, batchId: holder } of taken) {
      added.delete(email);
      if (holders) out.holders.set(holder, (out.holders.get(holder) ?? 0) + 1);
    }
  }
}
