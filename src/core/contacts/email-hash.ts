import { hash } from 'node:crypto';

/** SHA-256 of a normalized address, as stored in contacts.email_hash and suppressions. */
export function emailHash(normalizedEmail: string): Buffer {
  return hash('sha256', normalizedEmail, 'buffer') as Buffer;
}
