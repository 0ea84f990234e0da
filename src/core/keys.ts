import { hash, randomBytes } from 'node:crypto';

/**
 * How core identifies what it stores, shared with db/ (the legacy upgrade writes the same keys):
 * a contact by its normalized address, a suppression by that address's SHA-256, a batch by
 * `batch_<8 hex>_<unix seconds>`.
 */

/** Normalizes an address for storage and comparison: trimmed, lower-cased. */
export function normalizeEmail(address: string): string {
  return address.trim().toLowerCase();
}

/** SHA-256 of a normalized address, as stored in contacts.email_hash and suppressions. */
export function emailHash(normalizedEmail: string): Buffer {
  return hash('sha256', normalizedEmail, 'buffer') as Buffer;
}

/** `batch_<8 lowercase hex>_<unix seconds>`, as the seed names batches. */
export const batchIdPattern = /^batch_[0-9a-f]{8}_\d{9,11}$/;

/** A new batch id in batchIdPattern's format. */
export function newBatchId(nowMs: number): string {
  return `batch_${randomBytes(4).toString('hex')}_${Math.floor(nowMs / 1000)}`;
}
