import { type NotSendableReason, notSendableReasons } from '../audience/audience-service.js';
import type { ContactStatus, SuppressionReason } from '../types.js';
import { toIso } from '../types.js';
import type { ContactFields, ContactRecord } from './contact-store.js';

/** Whether and why an address is on the suppression list: the reason, who put it there, when. */
export type SuppressionInfo = { reason: SuppressionReason; actor: string; at: string };

export type Contact = ContactFields & {
  createdAt: string;
  updatedAt: string;
  /** Whether a campaign starting now could e-mail this person (status alone does not say: the batch may be inactive). */
  sendable: boolean;
  /** Why not, when not sendable: see NotSendableReason (e.g. `batch_inactive`, `no_mail_domain`). */
  notSendableReason: NotSendableReason | null;
  /** The address's suppression entry; null: not suppressed. A status change never lifts it. */
  suppression: SuppressionInfo | null;
};

/** A contact as a store reads it (ContactStore, BatchStore): the row a Contact is built from. */
export type ContactRowOut = ContactRecord;

/** The reason column's text as a NotSendableReason (null: sendable). */
export const toNotSendableReason = (r: string | null): NotSendableReason | null =>
  notSendableReasons.find((x) => x === r) ?? null;

/** Every contact status with 0: the start of a count by status. */
export const zeroByStatus = (): Record<ContactStatus, number> => ({
  active: 0,
  inactive: 0,
  replied: 0,
  bounced: 0,
  unsubscribed: 0,
  complained: 0,
});

export function toContact(row: ContactRowOut): Contact {
  const { suppressionReason, suppressedBy, suppressedAt, ...fields } = row;
  const notSendableReason = toNotSendableReason(row.notSendableReason);
  return {
    ...fields,
    createdAt: toIso(row.createdAt)!,
    updatedAt: toIso(row.updatedAt)!,
    sendable: notSendableReason === null,
    notSendableReason,
    suppression:
      suppressionReason !== null
        ? { reason: suppressionReason, actor: suppressedBy ?? 'system', at: toIso(suppressedAt ?? 0)! }
        : null,
  };
}
