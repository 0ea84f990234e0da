import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
/** Every refusal the domain can make, with the HTTP status each transport maps it to. */
export const errorCodes = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  duplicate_file: 409,
  suppressed: 409,
  too_large: 413,
  /** An upload (REST body or Slack download) that sent nothing for IMPORT_IDLE_TIMEOUT. */
  upload_timeout: 408,
  /** Every import slot stayed busy for IMPORT_QUEUE_TIMEOUT (REST: answered with Retry-After). */
  import_busy: 503,
  not_csv: 415,
  unsupported_media_type: 415,
  empty_file: 422,
  no_email_column: 422,
  malformed_csv: 422,
  no_valid_rows: 422,
  no_new_contacts: 422,
  opted_out_list: 422,
  mail_not_configured: 409,
  /** A campaign would start with nobody to send to (no active batch, or everyone excluded). */
  empty_audience: 409,
  import_failed: 500,
  storage_read_only: 503,
  storage_unavailable: 503,
  storage_full: 507,
  download_failed: 502,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorCodes;

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
