import { type NotSendableReason, notSendableReasons } from '../audience/audience-service.js';
import { toIso } from '../types.js';
import type { ContactFields, ContactRecord } from './contact-store.js';

export type Contact = ContactFields & {
  createdAt: string;
  updatedAt: string;
  /** Whether a campaign starting now could e-mail this person (status alone does not say: the batch may be inactive). */
  sendable: boolean;
  /** Why not, when not sendable: see NotSendableReason (e.g. `batch_inactive`, `no_mail_domain`). */
  notSendableReason: NotSendableReason | null;
};

/** A contact as a store reads it (ContactStore, BatchStore): the row a Contact is built from. */
export type ContactRowOut = ContactRecord;

/** The reason column's text as a NotSendableReason (null: sendable). */
export const toNotSendableReason = (r: string | null): NotSendableReason | null =>
  notSendableReasons.find((x) => x === r) ?? null;

export function toContact(row: ContactRowOut): Contact {
  const notSendableReason = toNotSendableReason(row.notSendableReason);
  return {
    ...row,
    createdAt: toIso(row.createdAt)!,
    updatedAt: toIso(row.updatedAt)!,
    sendable: notSendableReason === null,
    notSendableReason,
  };
}
