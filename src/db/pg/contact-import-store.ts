import {
  type ChunkWritten,
  type ContactImportStore,
  type ContactRow,
  hashBytes,
  type ImportChunk,
} from '../../core/imports/contact-import-store.js';
import { inTransaction, type PgDb, type PgExec, rows } from './client.js';

/**
 * What the chunk's transaction reads before it writes, in one statement: the whole-domain rules
 * (`r`), the chunk's hashes that are suppressed (`s`) and who holds each of the chunk's addresses
 * (`h`). Both lookups are `= ANY(array)` probes of a unique index. The hashes travel as one binary
 * value (hashBytes each, in row order; node-postgres sends a Buffer as raw bytes) cut apart by
 * the server into the array once: a text array is twice the bytes, parsed element by element, and
 * joining the chunk to the suppressions instead made the planner hash the whole table (in
 * parallel workers), 70–130 ms a chunk at 50,000 suppressions. Holders are looked up for every
 * row, suppressed ones too: those are counted as suppressed whoever holds them, so the outcome is
 * the same as looking up only the rows kept.
 */
const lookupSql = `SELECT 'r' AS k, pattern AS a, NULL::bytea AS h, NULL AS b FROM domain_suppressions
  UNION ALL
  SELECT 's', NULL, email_hash, NULL FROM suppressions WHERE email_hash = ANY(ARRAY(
    SELECT substring($1::bytea FROM g * ${hashBytes} + 1 FOR ${hashBytes})
      FROM generate_series(0, length($1::bytea) / ${hashBytes} - 1) AS g))
  UNION ALL
  SELECT 'h', email, NULL, batch_id FROM contacts WHERE email = ANY($2::text[])`;

/**
 * The new rows in one statement, in the chunk's order (ids ascending as on SQLite), and the
 * batch's contact_count raised by as many as were added, in the same statement.
 */
const insertSql = `WITH added AS (
    INSERT INTO contacts (email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at)
    SELECT u.email, substring($2::bytea FROM (u.n::int - 1) * ${hashBytes} + 1 FOR ${hashBytes}),
           u.name, u.company, u.position, u.source, 'active', $7, $8, $8
      FROM unnest($1::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           WITH ORDINALITY AS u(email, name, company, position, source, n)
     ORDER BY u.n
    ON CONFLICT (email) DO NOTHING
    RETURNING 1
  ), counted AS (
    UPDATE batches SET contact_count = contact_count + (SELECT count(*) FROM added) WHERE id = $7
  )
  SELECT count(*) AS n FROM added`;

type Found = { k: 'r' | 's' | 'h'; a: string; h: Buffer | null; b: string | null };

/**
 * The Postgres ContactImportStore: one transaction per chunk, in five round trips whatever its
 * size (a table lock, one statement of lookups, one INSERT … SELECT FROM unnest of every new row,
 * the commit), never a query per row. The counting rules are the SQLite store's.
 *
 * Several instances (or two imports) may write chunks at once, where SQLite had one writer:
 * - The chunk takes domain_suppressions in SHARE mode before reading the rules. Adding a rule
 *   (PgSuppressionStore.addDomainRule) writes that table, so it waits for the chunks under way,
 *   then suppresses the contacts they added; a chunk that starts meanwhile waits for the rule and
 *   leaves its domain out. Without it, a chunk that read the rules just before a rule was added
 *   could add contacts of that domain after the rule's transaction looked for them: never
 *   suppressed. Chunks do not wait for each other (SHARE does not conflict with SHARE).
 * - Two imports adding the same address: the second INSERT waits for the first's commit on the
 *   unique index, then leaves the row out (ON CONFLICT DO NOTHING). Such a row was new when this
 *   chunk looked, held by another batch when it wrote: counted as existing (SQLite, which never
 *   sees this, counts a left-out row as repeated in the file).
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

  constructor(private readonly db: PgDb) {}

  async writeChunk(chunk: ImportChunk): Promise<ChunkWritten> {
    return inTransaction(this.db.$client, (tx) => this.write(tx, chunk));
  }

  private async write(tx: PgExec, { batchId, parts, now, domainRules, holders }: ImportChunk) {
    const out: ChunkWritten = {
      imported: 0,
      duplicateInFile: 0,
      existing: 0,
      suppressed: 0,
      holders: new Map(),
    };
    const all: ContactRow[] = [];
    for (const part of parts) for (const r of part.rows) all.push(r);
    if (all.length === 0) return out;
    const hashes = Buffer.concat(
      parts.map((p) => Buffer.from(p.hashes.buffer, p.hashes.byteOffset, p.rows.length * hashBytes)),
    );
    // SHARE ROW EXCLUSIVE conflicts with itself and with a domain rule being added: chunks of
    // concurrent imports (any instance) take turns, as every write did on SQLite. Two imports of
    // the same addresses in opposite orders would otherwise wait on each other's uncommitted rows
    // in the unique index: a deadlock.
    //
    // The chunk commits without waiting for its WAL to reach the disk (synchronous_commit off for
    // this transaction only): a crash may lose the last chunks' commits, never a later one without
    // an earlier one, and the import is not done until its batch leaves `importing` in a normal,
    // flushed commit (which flushes every chunk before it). A batch a crash leaves `importing` is
    // deleted by the sweep, so nothing half-written is ever used.
    await tx.query(
      'SET LOCAL synchronous_commit = off; LOCK TABLE domain_suppressions IN SHARE ROW EXCLUSIVE MODE',
    );
    const rowHash = (i: number) => hashes.subarray(i * hashBytes, (i + 1) * hashBytes);
    const found = await rows<Found>(tx, lookupSql, [hashes, [...new Set(all.map((r) => r.email))]]);
    const patterns: string[] = [];
    const suppressedHashes = new Set<string>();
    const holderOf = new Map<string, string>();
    for (const f of found) {
      if (f.k === 'r') patterns.push(f.a);
      else if (f.k === 's') suppressedHashes.add(f.h!.toString('latin1'));
      // This batch, another batch's id when asked for, else '' (another batch, not named).
      else holderOf.set(f.a, f.b === batchId ? batchId : holders ? f.b! : '');
    }
    const suppressed = new Set<number>();
    if (suppressedHashes.size > 0)
      for (let i = 0; i < all.length; i++)
        if (suppressedHashes.has(rowHash(i).toString('latin1'))) suppressed.add(i);
    const inSuppressedDomain = patterns.length > 0 ? domainRules(patterns) : null;
    const fresh: number[] = [];
    for (let i = 0; i < all.length; i++) {
      const email = all[i]!.email;
      if (suppressed.has(i) || inSuppressedDomain?.(email)) {
        out.suppressed++;
        continue;
      }
      const holder = holderOf.get(email);
      if (holder === undefined) {
        fresh.push(i);
        holderOf.set(email, batchId); // a later row with this address repeats it
      } else if (holder === batchId) {
        out.duplicateInFile++;
      } else {
        out.existing++;
        if (holder) out.holders.set(holder, (out.holders.get(holder) ?? 0) + 1);
      }
    }
    if (fresh.length === 0) return out;
    const added = await this.insert(tx, fresh, all, hashes, batchId, now);
    out.imported += added;
    if (added < fresh.length) await this.lostRaces(tx, fresh, all, batchId, holders, out, added);
    return out;
  }

  /** Inserts the rows `fresh` (indexes into all) in one statement; returns how many it added. */
  private async insert(
    tx: PgExec,
    fresh: number[],
    all: ContactRow[],
    hashes: Buffer,
    batchId: string,
    now: number,
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
    const [result] = await rows<{ n: number }>(tx, insertSql, [
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
   * Rows new when the chunk looked but left out by the INSERT: another transaction (an import
   * into another batch, maybe in another instance) added the address meanwhile and committed.
   * Counted as existing; when the import asks who holds its existing addresses, looked up again
   * (a new statement sees that commit).
   */
  private async lostRaces(
    tx: PgExec,
    fresh: number[],
    all: ContactRow[],
    batchId: string,
    holders: boolean,
    out: ChunkWritten,
    added: number,
  ): Promise<void> {
    out.existing += fresh.length - added;
    if (!holders) return;
    const taken = await rows<{ email: string; batchId: string }>(
      tx,
      `SELECT email, batch_id AS "batchId" FROM contacts WHERE email = ANY($1::text[]) AND batch_id <> $2`,
      [fresh.map((i) => all[i]!.email), batchId],
    );
    for (const { batchId: holder } of taken) out.holders.set(holder, (out.holders.get(holder) ?? 0) + 1);
  }
}
