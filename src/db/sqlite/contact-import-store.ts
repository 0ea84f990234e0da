import {
  type ChunkWritten,
  type ContactImportStore,
  type ContactRow,
  type DomainRules,
  hashBytes,
  type ImportPart,
} from '../../core/imports/contact-import-store.js';
import type { Sqlite } from '../client.js';

/** Rows per INSERT statement: one statement per row costs twice as much at a million rows. */
const insertGroup = 100;
const contactValues = `(?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`;
const insertInto = `INSERT INTO contacts (email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at)`;

/**
 * The SQLite ContactImportStore: one synchronous transaction per chunk, new addresses inserted
 * 100 to a statement (`ON CONFLICT(email) DO NOTHING`), the rows it did not add looked up to
 * tell a repeat in the file from an address another batch holds.
 */
export class SqliteContactImportStore implements ContactImportStore {
  private readonly stmts;

  constructor(private readonly sqlite: Sqlite) {
    const s = sqlite;
    this.stmts = {
      insertContact: s.prepare(`${insertInto} VALUES ${contactValues} ON CONFLICT(email) DO NOTHING`),
      insertContacts: s.prepare(
        `${insertInto} VALUES ${Array(insertGroup).fill(contactValues).join(', ')} ON CONFLICT(email) DO NOTHING`,
      ),
      lastId: s.prepare<[], number>(`SELECT max(id) FROM contacts`).pluck(),
      holder: s.prepare<[string], { id: number; batch_id: string }>(
        `SELECT id, batch_id FROM contacts WHERE email = ?`,
      ),
      anySuppression: s.prepare<[], { one: number }>(`SELECT 1 AS one FROM suppressions LIMIT 1`),
      domainRules: s.prepare<[], string>(`SELECT pattern FROM domain_suppressions`).pluck(),
      suppressed: s.prepare<[Buffer], { one: number }>(
        `SELECT 1 AS one FROM suppressions WHERE email_hash = ?`,
      ),
    };
  }

  async writeChunk(
    batchId: string,
    parts: ImportPart[],
    now: number,
    domainRules: DomainRules,
  ): Promise<ChunkWritten> {
    return this.sqlite.transaction(() => this.write(batchId, parts, now, domainRules))();
  }

  private write(batchId: string, parts: ImportPart[], now: number, domainRules: DomainRules): ChunkWritten {
    const s = this.stmts;
    const out: ChunkWritten = {
      imported: 0,
      duplicateInFile: 0,
      existing: 0,
      suppressed: 0,
      holders: new Map(),
    };
    const checkSuppressions = s.anySuppression.get() !== undefined;
    // Whole-domain rules (few): one query per chunk, then Set lookups per row.
    const rules = s.domainRules.all();
    const inSuppressedDomain = rules.length > 0 ? domainRules(rules) : null;
    // Rows to insert with their hashes, suppressed addresses left out.
    const rows: ContactRow[] = [];
    const hashes: Buffer[] = [];
    for (const part of parts) {
      const all = Buffer.from(part.hashes.buffer, part.hashes.byteOffset, part.hashes.byteLength);
      for (let i = 0; i < part.rows.length; i++) {
        const hash = all.subarray(i * hashBytes, (i + 1) * hashBytes);
        if ((checkSuppressions && s.suppressed.get(hash)) || inSuppressedDomain?.(part.rows[i]!.email)) {
          out.suppressed++;
          continue;
        }
        rows.push(part.rows[i]!);
        hashes.push(hash);
      }
    }
    const values = new Array<unknown>(insertGroup * 9);
    let at = 0;
    for (; at + insertGroup <= rows.length; at += insertGroup) {
      let k = 0;
      for (let i = at; i < at + insertGroup; i++) {
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
      const lastIdBefore = s.lastId.get() ?? 0;
      const info = s.insertContacts.run(values);
      out.imported += info.changes;
      if (info.changes < insertGroup)
        this.countNotInserted(batchId, rows.slice(at, at + insertGroup), lastIdBefore, out);
    }
    for (let i = at; i < rows.length; i++) {
      const row = rows[i]!;
      const info = s.insertContact.run(
        row.email,
        hashes[i],
        row.name,
        row.company,
        row.position,
        row.source,
        batchId,
        now,
        now,
      );
      out.imported += info.changes;
      if (info.changes === 0) this.countNotInserted(batchId, [row], Number.POSITIVE_INFINITY, out);
    }
    return out;
  }

  /**
   * After one INSERT of `rows` (ids above lastIdBefore are rows it added; skipped rows may still
   * use up ids): counts each row it did not add as repeated in the file (held by this batch) or
   * existing (held by another).
   */
  private countNotInserted(
    batchId: string,
    rows: ContactRow[],
    lastIdBefore: number,
    out: ChunkWritten,
  ): void {
    const added = new Set<string>();
    for (const row of rows) {
      const holder = this.stmts.holder.get(row.email);
      if (!holder) continue;
      if (holder.id > lastIdBefore && !added.has(row.email)) {
        added.add(row.email);
      } else if (holder.batch_id === batchId) {
        out.duplicateInFile++;
      } else {
        out.existing++;
        out.holders.set(holder.batch_id, (out.holders.get(holder.batch_id) ?? 0) + 1);
      }
    }
  }
}
