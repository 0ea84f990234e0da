import { and, asc, eq, getTableColumns, gt } from 'drizzle-orm';
import { contacts } from '../../db/schema.js';
import { notSendableReasonColumn, toNotSendableReason } from '../contacts/contact.js';
import { csvPages, iso, pageSize } from '../csv-export.js';
import type { CoreDeps } from '../types.js';
import { type ContactFilter, filterConditions } from './contact-filter.js';

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
