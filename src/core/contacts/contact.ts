import type { ContactStatus } from '../../db/schema.js';
import { contacts } from '../../db/schema.js';
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
};

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
};

export type ContactRowOut = Omit<Contact, 'createdAt' | 'updatedAt'> & {
  createdAt: number;
  updatedAt: number;
};

export function toContact(row: ContactRowOut): Contact {
  return { ...row, createdAt: toIso(row.createdAt)!, updatedAt: toIso(row.updatedAt)! };
}
