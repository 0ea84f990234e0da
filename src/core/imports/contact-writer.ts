import type { Sqlite } from '../../db/client.js';
import { DomainMatcher } from '../suppression/domain-suppression-service.js';
import { hashBytes } from './contact-chunks.js';
import type { ContactRow } from './rows.js';

/** Rows per INSERT statement: one statement per row costs twice as much at a million rows. */
const insertGroup = 100;
const contactValues = `(?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`;

/** What writing rows adds to an import report. */
export type WriteCounts = { imported: number; duplicateInFile: number; existing: number; suppressed: number };

/**
 * Writes validated rows into an importing batch: suppressed addresses (by hash or whole domain)
 * left out, new addresses inserted 100 to a statement, the rest counted as repeated in the file
 * or held by another batch.
 */
export class ContactWriter {
  private readonly stmts;

  constructor(private readonly sqlite: Sqlite) {
    const s = sqlite;
    this.stmts = {
      insertContact: s.prepare(
        `INSERT INTO contacts (email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at)
         VALUES ${contactValues} ON CONFLICT(email) DO NOTHING`,
      ),
      insertContacts: s.prepare(
        `INSERT INTO contacts (email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at)
         VALUES ${Array(insertGroup).fill(contactValues).join(', ')} ON CONFLICT(email) DO NOTHING`,
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

  /** One synchronous transaction per chunk: insert new addresses, count the rest. */
  write(
    batchId: string,
    parts: { rows: ContactRow[]; hashes: Uint8Array }[],
    report: WriteCounts,
    holders: Map<string, number>,
    now: number,
  ): void {
    const s = this.stmts;
    this.sqlite.transaction(() => {
      const checkSuppressions = s.anySuppression.get() !== undefined;
      // Whole-domain rules (few): one query per chunk, then Set lookups per row.
      const rules = s.domainRules.all();
      const domains = rules.length > 0 ? new DomainMatcher(rules) : null;
      // Rows to insert with their hashes, suppressed addresses left out.
      const rows: ContactRow[] = [];
      const hashes: Buffer[] = [];
      for (const part of parts) {
        const all = Buffer.from(part.hashes.buffer, part.hashes.byteOffset, part.hashes.byteLength);
        for (let i = 0; i < part.rows.length; i++) {
          const hash = all.subarray(i * hashBytes, (i + 1) * hashBytes);
          if ((checkSuppressions && s.suppressed.get(hash)) || domains?.matches(part.rows[i]!.email)) {
            report.suppressed++;
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
        report.imported += info.changes;
        if (info.changes < insertGroup)
          this.countNotInserted(batchId, rows.slice(at, at + insertGroup), lastIdBefore, report, holders);
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
        report.imported += info.changes;
        if (info.changes === 0)
          this.countNotInserted(batchId, [row], Number.POSITIVE_INFINITY, report, holders);
      }
    })();
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
    report: WriteCounts,
    holders: Map<string, number>,
  ): void {
    const added = new Set<string>();
    for (const row of rows) {
      const holder = this.stmts.holder.get(row.email);
      if (!holder) continue;
      if (holder.id > lastIdBefore && !added.has(row.email)) {
        added.add(row.email);
      } else if (holder.batch_id === batchId) {
        report.duplicateInFile++;
      } else {
        report.existing++;
        holders.set(holder.batch_id, (holders.get(holder.batch_id) ?? 0) + 1);
      }
    }
  }
}
