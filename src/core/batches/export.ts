import { stringify } from 'csv-stringify';
import { and, asc, eq, getTableColumns, gt } from 'drizzle-orm';
import { campaigns, contacts, sends } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { notSendableReasonColumn, toNotSendableReason } from '../contacts/contact.js';
import type { CoreDeps } from '../types.js';
import { type ContactFilter, filterConditions } from './contact-filter.js';

/** Spreadsheet formula injection: a cell starting with = + - @ tab or CR is prefixed with an apostrophe. */
export function neutralizeCell(value: string | null | undefined): string {
  if (value == null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

const iso = (ms: number | null | undefined) => (ms == null ? '' : new Date(ms).toISOString());

/**
 * A CSV stream (header, CRLF) filled page by page from `page(afterId)` until it returns no row,
 * so memory stays flat for any size; every text cell goes through neutralizeCell.
 */
function csvPages<R extends { id: number }>(
  columns: readonly string[],
  page: (afterId: number) => R[],
  cells: (row: R) => (string | null | undefined)[],
): AsyncIterable<string> {
  const out = stringify({ header: true, columns: [...columns], record_delimiter: '\r\n' });
  (async () => {
    let after = 0;
    for (;;) {
      const rows = page(after);
      if (rows.length === 0) break;
      for (const r of rows) {
        const ok = out.write(cells(r).map(neutralizeCell));
        if (!ok) await new Promise((res) => out.once('drain', res));
      }
      after = rows.at(-1)!.id;
    }
    out.end();
  })().catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
  return out;
}

const pageSize = 2000;

/**
 * PRODUCT.md section 5's columns first, in its order; later additions go at the end so a
 * spreadsheet built on the first ones keeps working. `sendable` (true/false) says whether a
 * campaign starting now could e-mail the person, `not_sendable_reason` why not (batch_inactive,
 * no_mail_domain, suppressed, inactive, bounced, unsubscribed).
 */
export const exportColumns = [
  'email',
  'name',
  'company',
  'position',
  'status',
  'source',
  'created_at',
  'validation',
  'sendable',
  'not_sendable_reason',
] as const;

/** Streams a batch's contacts (those the filter keeps) as CSV. */
export function exportBatchCsv(
  deps: CoreDeps,
  batchId: string,
  filter: ContactFilter = {},
): AsyncIterable<string> {
  const conds = [eq(contacts.batchId, batchId), ...filterConditions(filter)];
  return csvPages(
    exportColumns,
    (after) =>
      deps.db
        .select({ ...getTableColumns(contacts), notSendableReason: notSendableReasonColumn })
        .from(contacts)
        .where(and(...conds, gt(contacts.id, after)))
        .orderBy(asc(contacts.id))
        .limit(pageSize)
        .all(),
    (r) => {
      const reason = toNotSendableReason(r.notSendableReason);
      return [
        r.email,
        r.name,
        r.company,
        r.position,
        r.status,
        r.source,
        iso(r.createdAt),
        r.validation,
        String(reason === null),
        reason,
      ];
    },
  );
}

/**
 * The suppression list: never mailed again. Only a SHA-256 of each address is kept (that is what
 * lets it outlive the contact), so the export holds the hash, why, who and when.
 */
export function exportSuppressionsCsv(deps: CoreDeps): AsyncIterable<string> {
  const stmt = deps.db.$client.prepare<
    [number, number],
    { id: number; hash: string; reason: string; actor: string; created_at: number }
  >(
    `SELECT rowid AS id, lower(hex(email_hash)) AS hash, reason, actor, created_at FROM suppressions
     WHERE rowid > ? ORDER BY rowid LIMIT ?`,
  );
  return csvPages(
    ['email_sha256', 'reason', 'actor', 'created_at'],
    (after) => stmt.all(after, pageSize),
    (r) => [r.hash, r.reason, r.actor, iso(r.created_at)],
  );
}

export const campaignResultColumns = [
  'email',
  'name',
  'status',
  'attempts',
  'message_id',
  'sent_at',
  'unsubscribed_at',
  'response',
] as const;

/**
 * A campaign's per-recipient results: who got it, when, the Message-ID, the ledger status
 * (sent, bounced, failed, unknown, retry, claimed) and `attempts`, every delivery try (1 for a
 * message delivered at the first try; a 451 then a delivery is 2). A contact deleted since shows its address
 * hash instead of the address.
 */
export function exportCampaignResultsCsv(deps: CoreDeps, campaignId: string): AsyncIterable<string> {
  if (!deps.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.id, campaignId)).get())
    throw new DomainError('not_found', `No campaign ${campaignId}.`, { campaignId });
  return csvPages(
    campaignResultColumns,
    (after) =>
      deps.db
        .select({
          id: sends.id,
          email: contacts.email,
          hash: sends.emailHash,
          name: contacts.name,
          status: sends.status,
          attempts: sends.attempts,
          messageId: sends.messageId,
          updatedAt: sends.updatedAt,
          unsubscribedAt: sends.unsubscribedAt,
          response: sends.response,
        })
        .from(sends)
        .leftJoin(contacts, eq(contacts.id, sends.contactId))
        .where(and(eq(sends.campaignId, campaignId), gt(sends.id, after)))
        .orderBy(asc(sends.id))
        .limit(pageSize)
        .all(),
    (r) => [
      r.email ?? `sha256:${r.hash.toString('hex')}`,
      r.name,
      r.status,
      String(r.attempts),
      r.messageId,
      r.status === 'sent' ? iso(r.updatedAt) : '',
      iso(r.unsubscribedAt),
      r.response,
    ],
  );
}
