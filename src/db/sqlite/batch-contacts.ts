import { and, asc, eq, gt, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import type { ContactExportRow, ContactFilter, ContactPageQuery } from '../../core/batches/batch-store.js';
import type { Db } from '../client.js';
import { contacts, suppressions } from '../schema.js';
import { notSendableReasonSql } from './audience-sql.js';
import { contactFieldColumns } from './contact-status.js';

/** Escapes LIKE wildcards so user text is matched literally. */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A contact filter (core/batches/contact-filter.ts) as SQL conditions on `contacts`. */
export function filterConditions(f: ContactFilter): SQL[] {
  const conds: SQL[] = [];
  if (f.status) conds.push(sql`${contacts.status} = ${f.status}`);
  if (f.company) conds.push(sql`${contacts.company} LIKE ${likePattern(f.company)} ESCAPE '\\'`);
  if (f.position) conds.push(sql`${contacts.position} LIKE ${likePattern(f.position)} ESCAPE '\\'`);
  if (f.domain) {
    const escaped = f.domain.replace(/[\\%_]/g, (c) => `\\${c}`);
    conds.push(sql`${contacts.email} LIKE ${`%@${escaped}`} ESCAPE '\\'`);
  }
  if (f.validation === 'unchecked') conds.push(sql`${contacts.validation} IS NULL`);
  else if (f.validation) conds.push(sql`${contacts.validation} = ${f.validation}`);
  if (f.createdFrom !== undefined) conds.push(gte(contacts.createdAt, f.createdFrom));
  if (f.createdTo !== undefined) conds.push(lt(contacts.createdAt, f.createdTo));
  const q = f.q?.trim();
  if (q) {
    const p = likePattern(q);
    conds.push(
      or(
        sql`${contacts.email} LIKE ${p} ESCAPE '\\'`,
        sql`${contacts.name} LIKE ${p} ESCAPE '\\'`,
        sql`${contacts.company} LIKE ${p} ESCAPE '\\'`,
        sql`${contacts.position} LIKE ${p} ESCAPE '\\'`,
      )!,
    );
  }
  return conds;
}

/**
 * Why the contact of the outer `contacts` row is not sendable now (NULL when it is): the audience
 * rule, looked up by primary key (cheap per row of a page). Written out as "contacts"."id":
 * drizzle leaves single-table columns unqualified, which the subquery would take as its own.
 */
const notSendableReason = sql<string | null>`(SELECT ${sql.raw(notSendableReasonSql)}
  FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE c.id = "contacts"."id")`;

/** Every column a batch's contact page or export shows (never the hash); the suppression by primary key. */
const columns = {
  ...contactFieldColumns,
  createdAt: contacts.createdAt,
  updatedAt: contacts.updatedAt,
  validation: contacts.validation,
  notSendableReason,
  suppressionReason: suppressions.reason,
  suppressedBy: suppressions.actor,
  suppressedAt: suppressions.createdAt,
};

/** A page of the batch's contacts the filter keeps, id ascending after `q.after`. */
export function listBatchContacts(db: Db, batchId: string, q: ContactPageQuery): ContactExportRow[] {
  return db
    .select(columns)
    .from(contacts)
    .leftJoin(suppressions, eq(suppressions.emailHash, contacts.emailHash))
    .where(
      and(
        eq(contacts.batchId, batchId),
        ...filterConditions(q.filter),
        q.after !== undefined ? gt(contacts.id, q.after) : undefined,
      ),
    )
    .orderBy(asc(contacts.id))
    .limit(q.limit)
    .all();
}
