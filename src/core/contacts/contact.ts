import { sql } from 'drizzle-orm';
import { contacts } from '../../db/schema.js';
import {
  type NotSendableReason,
  notSendableReasonSql,
  notSendableReasons,
} from '../audience/audience-service.js';
import type { ContactStatus } from '../types.js';
import { toIso } from '../types.js';

export type Contact = {
  id: number;
  email: string;
  name: string | null;
  company: string | null;
  position: string | null;
  source: string | null;
  status: ContactStatus;
  batchId: string;
  createdAt: string;
  updatedAt: string;
  /** Whether a campaign starting now could e-mail this person (status alone does not say: the batch may be inactive). */
  sendable: boolean;
  /** Why not, when not sendable: see NotSendableReason (e.g. `batch_inactive`, `no_mail_domain`). */
  notSendableReason: NotSendableReason | null;
};

/**
 * Why the contact of the outer `contacts` row is not sendable now (NULL when it is): the one
 * definition the audience uses, looked up by primary key (cheap per row of a page). Written out as
 * "contacts"."id": drizzle leaves single-table columns unqualified, which the subquery would take as its own.
 */
export const notSendableReasonColumn = sql<string | null>`(SELECT ${sql.raw(notSendableReasonSql)}
  FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE c.id = "contacts"."id")`;

/** The columns a Contact is built from (never the hash). */
export const contactColumns = {
  id: contacts.id,
  email: contacts.email,
  name: contacts.name,
  company: contacts.company,
  position: contacts.position,
  source: contacts.source,
  status: contacts.status,
  batchId: contacts.batchId,
  createdAt: contacts.createdAt,
  updatedAt: contacts.updatedAt,
  notSendableReason: notSendableReasonColumn,
};

export type ContactRowOut = Omit<Contact, 'createdAt' | 'updatedAt' | 'sendable' | 'notSendableReason'> & {
  createdAt: number;
  updatedAt: number;
  notSendableReason: string | null;
};

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
