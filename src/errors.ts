import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';

/** Every refusal the domain can make; each transport maps them in one place (HTTP: src/http/errors.ts). */
export const errorCodes = [
  'invalid_input',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'duplicate_file',
  'suppressed',
  'too_large',
  /** An upload (REST body or Slack download) that sent nothing for IMPORT_IDLE_TIMEOUT. */
  'upload_timeout',
  /** Every import slot stayed busy for IMPORT_QUEUE_TIMEOUT (REST: answered with Retry-After). */
  'import_busy',
  'not_csv',
  'unsupported_media_type',
  'empty_file',
  'no_email_column',
  'malformed_csv',
  'no_valid_rows',
  'no_new_contacts',
  'opted_out_list',
  'mail_not_configured',
  /** A campaign would start with nobody to send to (no active batch, or everyone excluded). */
  'empty_audience',
  'import_failed',
  'storage_read_only',
  'storage_unavailable',
  'storage_full',
  'download_failed',
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

const knownCodes: ReadonlySet<string> = new Set(errorCodes);

/** True for one of errorCodes (e.g. a code read back from a stored report). */
export const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && knownCodes.has(code);

/** The only error core throws: a stable code, a message for people, optional details. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/** False when the file (or, if it does not exist yet, its folder) cannot be written. */
function writable(path: string): boolean {
  for (const p of [path, dirname(path)]) {
    try {
      accessSync(p, constants.W_OK);
      return true;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ENOENT') return false;
    }
  }
  return false;
}

/**
 * A database failure of the machine rather than of the request (disk full, read-only file, I/O
 * error) as a refusal people can act on; null for anything else. SQLite rolls back the statement
 * or transaction that hit it, so nothing is half-written. With the database path, a file that
 * cannot be opened on a read-only disk or folder is reported as read-only.
 */
export function storageError(e: unknown, databasePath?: string): DomainError | null {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return null;
  if (code === 'SQLITE_FULL')
    return new DomainError(
      'storage_full',
      "The server's disk is full, so nothing was saved. Free disk space where DATABASE_PATH lives, then try again.",
    );
  const ioError = code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN');
  if (code.startsWith('SQLITE_READONLY') || (ioError && databasePath && !writable(databasePath)))
    return new DomainError(
      'storage_read_only',
      'The database file is read-only, so nothing was saved. Make DATABASE_PATH (and its folder) writable by the app, then try again.',
    );
  if (ioError)
    return new DomainError(
      'storage_unavailable',
      'The database file could not be opened, read or written (an I/O error), so nothing was saved. Check the disk and DATABASE_PATH, then try again.',
    );
  return null;
}
