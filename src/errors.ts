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
  not_csv: 415,
  unsupported_media_type: 415,
  empty_file: 422,
  no_email_column: 422,
  malformed_csv: 422,
  no_valid_rows: 422,
  no_new_contacts: 422,
  opted_out_list: 422,
  mail_not_configured: 409,
  import_failed: 500,
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
