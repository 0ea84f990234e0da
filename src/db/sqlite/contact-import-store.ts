import type { Statement } from 'better-sqlite3';
import {
  type ChunkWritten,
  type ContactImportStore,
  type ContactRow,
  countHeld,
  hashBytes,
  type ImportChunk,
  noneWritten,
} from '../../core/imports/contact-import-store.js';
import type { Sqlite } from '../client.js';

/** Rows per INSERT statement: one statement per row costs twice as much at a million rows. */
const insertGroup = 100;
/** Keys per lookup statement (`IN (?, …)`, padded with NULL, which matches nothing). */
const lookupGroup = 500;
const contactValues = `(?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`;
const insertInto = `INSERT INTO contacts (email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at)`;
const keys = Array(lookupGroup).fill('?').join(', ');

/**
 * The SQLite ContactImportStore: one synchronous transaction per chunk, with set lookups rather
 * than a query per row. The chunk's hashes are checked against the suppressions, then its
 * addresses against the contacts, `lookupGroup` keys to a statement; only the addresses nobody
 * holds are inserted (100 to a statement), so every row is counted from what was looked up.
 */
export class SqliteContactImportStore implements ContactImportStore {
  private readonly stmts;
  /** INSERT of n rows, prepared on first use (n ≤ insertGroup). */
  private readonly inserts = new Map<number, Statement<unknown[]>>();
  /**
   * Run IMMEDIATE (`.immediate`): a chunk reads before it writes; holding the write lock from
   * the start means another process's commit in between cannot fail it (SQLITE_BUSY_SNAPSHOT).
   */
  private readonly transaction;

  constructor(private readonly sqlite: Sqlite) {
    this.transaction = sqlite.transaction((chunk: ImportChunk) => this.write(chunk));
    const s = sqlite;
    this.stmts = {
      anySuppression: s.prepare<[], { one: number }>(`SELECT 1 AS one FROM suppressions LIMIT 1`),
      domainRules: s.prepare<[], string>(`SELECT pattern FROM domain_suppressions`).pluck(),
      suppressed: s
        .prepare<unknown[], Buffer>(`SELECT email_hash FROM suppressions WHERE email_hash IN (${keys})`)
        .pluck(),
      // Who holds each address: the batch is read from the contact's row.
      holders: s
        .prepare<unknown[], [string, string]>(`SELECT email, batch_id FROM contacts WHERE email IN (${keys})`)
        .raw(),
      // Whether this batch holds each address, from the indexes alone (email, then (batch_id, id)):
      // reading the rows of a million known contacts costs more than the rest of the lookup.
      held: s
        .prepare<unknown[], [string, number]>(
          `SELECT e.email, EXISTS (SELECT 1 FROM contacts t INDEXED BY contacts_batch WHERE t.batch_id = ? AND t.id = e.id)
             FROM contacts e WHERE e.email IN (${keys})`,
        )
        .raw(),
    };
  }

  async writeChunk(chunk: ImportChunk): Promise<ChunkWritten> {
    return this.transaction.immediate(chunk);
  }

  private write({ batchId, parts, now, domainRules, holders }: ImportChunk): ChunkWritten {
    const out = noneWritten();
    const rows: ContactRow[] = [];
    const hashes: Buffer[] = [];
    for (const part of parts) {
      const all = Buffer.from(part.hashes.buffer, part.hashes.byteOffset, part.hashes.byteLength);
      for (let i = 0; i < part.rows.length; i++) {
        rows.push(part.rows[i]!);
        hashes.push(all.subarray(i * hashBytes, (i + 1) * hashBytes));
      }
    }
    const suppressed = this.suppressedAmong(hashes);
    // Whole-domain rules (few): one query per chunk, then Set lookups per row.
    const rules = this.stmts.domainRules.all();
    const inSuppressedDomain = rules.length > 0 ? domainRules(rules) : null;
    const kept: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const hit = suppressed.size > 0 && suppressed.has(hashes[i]!.toString('latin1'));
      if (hit || inSuppressedDomain?.(rows[i]!.email)) out.suppressed++;
      else kept.push(i);
    }
    const holderOf = this.holdersOf(batchId, [...new Set(kept.map((i) => rows[i]!.email))], holders);
    const fresh: number[] = [];
    for (const i of kept) if (countHeld(holderOf, rows[i]!.email, batchId, out)) fresh.push(i);
    for (let at = 0; at < fresh.length; at += insertGroup) {
      const group = fresh.slice(at, at + insertGroup);
      const added = this.insert(group, rows, hashes, batchId, now);
      out.imported += added;
      // Nobody held these addresses a moment ago in this transaction, so a row left out can only
      // repeat one just added (two spellings SQLite stores alike): never seen, but counted.
      out.duplicateInFile += group.length - added;
    }
    return out;
  }

  /** Inserts the rows `group` (indexes into rows) in one statement; returns how many it added. */
  private insert(
    group: number[],
    rows: ContactRow[],
    hashes: Buffer[],
    batchId: string,
    now: number,
  ): number {
    const values = new Array<unknown>(group.length * 9);
    let k = 0;
    for (const i of group) {
      const row = rows[i]!;
      values[k++] = row.email;
      values[k++] = hashes[i];
      values[k++] = row.name;
      values[k++] = row.company;
      values[k++] = row.position;
      values[k++] = row.source;
      values[k++] = batchId;
      values[k++] = now;
      values[k++] = now;
    }
    let stmt = this.inserts.get(group.length);
    if (!stmt) {
      const values = Array(group.length).fill(contactValues).join(', ');
      stmt = this.sqlite.prepare<unknown[]>(`${insertInto} VALUES ${values} ON CONFLICT(email) DO NOTHING`);
      this.inserts.set(group.length, stmt);
    }
    return stmt.run(values).changes;
  }

  /** The hashes (as latin1 strings) among `hashes` that are suppressed. */
  private suppressedAmong(hashes: Buffer[]): Set<string> {
    const found = new Set<string>();
    if (hashes.length === 0 || this.stmts.anySuppression.get() === undefined) return found;
    for (const hash of this.lookup(this.stmts.suppressed, [], hashes)) found.add(hash.toString('latin1'));
    return found;
  }

  /**
   * Who holds each of `emails` now (absent: nobody): `batchId` for this batch, another batch's id
   * when `withBatch`, else '' for any other batch.
   */
  private holdersOf(batchId: string, emails: string[], withBatch: boolean): Map<string, string> {
    const holderOf = new Map<string, string>();
    if (withBatch) {
      for (const [email, holder] of this.lookup(this.stmts.holders, [], emails)) holderOf.set(email, holder);
    } else {
      for (const [email, ours] of this.lookup(this.stmts.held, [batchId], emails))
        holderOf.set(email, ours ? batchId : '');
    }
    return holderOf;
  }

  /** Runs an `IN (lookupGroup keys)` statement (after `first` parameters) over every key. */
  private lookup<R>(stmt: Statement<unknown[], R>, first: unknown[], all: unknown[]): R[] {
    const found: R[] = [];
    const params = [...first, ...new Array<unknown>(lookupGroup)];
    for (let at = 0; at < all.length; at += lookupGroup) {
      for (let k = 0; k < lookupGroup; k++)
        params[first.length + k] = at + k < all.length ? all[at + k] : null;
      for (const row of stmt.all(params)) found.push(row);
    }
    return found;
  }
}
