import type { Actor, ContactInterest, ContactStatus, SuppressionReason } from '../vocabulary.js';

/** What every read of a contact carries (the address as imported, never its hash). */
export type ContactFields = {
  id: number;
  email: string;
  name: string | null;
  company: string | null;
  position: string | null;
  source: string | null;
  status: ContactStatus;
  batchId: string;
  /** What a person decided after the contact replied (the reply notice's buttons); null: nobody did. */
  interest: ContactInterest | null;
};

/**
 * A contact as a store reads it: times in epoch milliseconds, and why it is not sendable now as
 * the audience rule's text (null: sendable). Never the address hash.
 */
export type ContactRecord = ContactFields & {
  createdAt: number;
  updatedAt: number;
  notSendableReason: string | null;
  /** The address's suppression entry (null columns: not suppressed). */
  suppressionReason: SuppressionReason | null;
  suppressedBy: string | null;
  suppressedAt: number | null;
};

/** One status change of a contact as stored (times in epoch milliseconds). */
export type StatusChangeRow = {
  at: number;
  from: string | null;
  to: string;
  actor: string;
  reason: string | null;
};

/** A status change to make: who, why and when. */
export type StatusChangeOrder = {
  id: number;
  status: ContactStatus;
  actor: Actor;
  reason: string | null;
  at: number;
};

/**
 * What a status change did: nothing (no such contact; already in that status; refused because the
 * address is suppressed and the change would make it sendable) or changed, from which status.
 */
export type StatusChangeResult =
  | { kind: 'missing' }
  | { kind: 'suppressed'; reason: SuppressionReason }
  | { kind: 'unchanged' | 'changed'; from: ContactStatus };

/**
 * Statuses a person may set back to `active` although the address is suppressed: the mailbox's
 * (`replied`, `complained`). The change is about the contact; it never lifts the suppression, so a
 * complained address stays unmailable. From any other status a suppressed address stays refused.
 */
export const reactivatableWhenSuppressed: readonly ContactStatus[] = ['replied', 'complained'];

/**
 * One contact at a time (`contacts` and its `contact_history`): reads, a status change and a
 * deletion. Each method is one atomic unit of work owning its transaction.
 */
export interface ContactStore {
  /** The contact (with why it is not sendable now), or null. */
  find(id: number): Promise<ContactRecord | null>;
  /** The id of the contact with this normalized address, or null. */
  idByEmail(email: string): Promise<number | null>;
  /**
   * Changes the status with a history row; bounced/unsubscribed/complained also suppress the
   * address. Setting `active` on a suppressed address is refused (`suppressed`) unless the status
   * was one of reactivatableWhenSuppressed. Nothing is written unless the result is `changed`.
   */
  changeStatus(order: StatusChangeOrder): Promise<StatusChangeResult>;
  /**
   * Deletes the contact: its hash is suppressed ('deleted', unless it already is), a history row
   * records it, and its batch's contact_count drops by one. False when there is no such contact.
   */
  delete(id: number, actor: Actor, reason: string | null, at: number): Promise<boolean>;
  /** The contact's status changes, oldest first. */
  history(id: number): Promise<StatusChangeRow[]>;
}
