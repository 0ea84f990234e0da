import type { ContactExportRow, ContactFilter, ContactPageQuery } from '../../core/batches/batch-store.js';
import { foldFrom, foldText, foldTo } from '../../core/text-fold.js';
import { escapeLike } from '../like.js';
import { notSendableReasonSql } from './audience-sql.js';
import { type PgExec, rows } from './client.js';

/** A column folded as core/text-fold.ts says (the table holds no quote). */
const folded = (column: string) => `translate(${column}, '${foldFrom}', '${foldTo}')`;

/**
 * A contact filter (core/batches/contact-filter.ts) as SQL conditions on `contacts c`, its values
 * appended to `values` (placeholders numbered after those already there). Text is compared
 * folded (case and accents aside) with the same table as SQLite, never by the locale's ILIKE.
 */
export function filterConditions(f: ContactFilter, values: unknown[]): string[] {
  const conds: string[] = [];
  const p = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  /** The columns contain the text, case and accents aside (one placeholder for all of them). */
  const contains = (columns: string[], q: string) => {
    const pattern = p(`%${escapeLike(foldText(q))}%`);
    return `(${columns.map((c) => `${folded(c)} LIKE ${pattern} ESCAPE '\\'`).join(' OR ')})`;
  };
  if (f.status) conds.push(`c.status = ${p(f.status)}`);
  if (f.company) conds.push(contains(['c.company'], f.company));
  if (f.position) conds.push(contains(['c.position'], f.position));
  if (f.domain) conds.push(`c.email ILIKE ${p(`%@${escapeLike(f.domain)}`)} ESCAPE '\\'`);
  if (f.validation === 'unchecked') conds.push('c.validation IS NULL');
  else if (f.validation) conds.push(`c.validation = ${p(f.validation)}`);
  if (f.createdFrom !== undefined) conds.push(`c.created_at >= ${p(f.createdFrom)}`);
  if (f.createdTo !== undefined) conds.push(`c.created_at < ${p(f.createdTo)}`);
  const q = f.q?.trim();
  if (q) conds.push(contains(['c.email', 'c.name', 'c.company', 'c.position'], q));
  return conds;
}

/**
 * Every column a batch's contact page or export shows (never the hash), camelCase aliases quoted;
 * why the contact is not sendable now is the audience rule on its own row and batch.
 */
const columns = `c.id, c.email, c.name, c.company, c.position, c.source, c.status, c.batch_id AS "batchId",
  c.interest, c.created_at AS "createdAt", c.updated_at AS "updatedAt", c.validation,
  ${notSendableReasonSql} AS "notSendableReason",
  sup.reason AS "suppressionReason", sup.actor AS "suppressedBy", sup.created_at AS "suppressedAt"`;

/** A page of the batch's contacts the filter keeps, id ascending after `q.after`. */
export async function listBatchContacts(
  exec: PgExec,
  batchId: string,
  q: ContactPageQuery,
): Promise<ContactExportRow[]> {
  const values: unknown[] = [batchId];
  const conds = ['c.batch_id = $1', ...filterConditions(q.filter, values)];
  if (q.after !== undefined) {
    values.push(q.after);
    conds.push(`c.id > $${values.length}`);
  }
  values.push(q.limit);
  // The batch `b` is what the audience rule reads (its status, include_invalid_domains).
  return rows<ContactExportRow>(
    exec,
    `SELECT ${columns}
     FROM contacts c JOIN batches b ON b.id = c.batch_id
     LEFT JOIN suppressions sup ON sup.email_hash = c.email_hash
     WHERE ${conds.join(' AND ')}
     ORDER BY c.id LIMIT $${values.length}`,
    values,
  );
}
