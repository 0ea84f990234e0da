import { toNotSendableReason } from '../contacts/contact.js';
import { csvPages, iso, pageSize } from '../csv-export.js';
import type { BatchStore } from './batch-store.js';
import type { ContactFilter } from './contact-filter.js';

/**
 * PRODUCT.md section 5's columns first, in its order; later additions go at the end so a
 * spreadsheet built on the first ones keeps working. `sendable` (true/false) says whether a
 * campaign starting now could e-mail the person, `not_sendable_reason` why not (batch_inactive,
 * no_mail_domain, suppressed, inactive, replied, bounced, unsubscribed, complained); `interest`
 * what a person decided after they replied (interested, not_interested, or empty).
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
  'interest',
] as const;

/** Streams a batch's contacts (those the filter keeps) as CSV, read from the store a page at a time. */
export function exportBatchCsv(
  store: Pick<BatchStore, 'listContacts'>,
  batchId: string,
  filter: ContactFilter = {},
): AsyncIterable<string> {
  return csvPages(
    exportColumns,
    (after) => store.listContacts(batchId, { filter, after, limit: pageSize }),
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
        r.interest,
      ];
    },
  );
}
