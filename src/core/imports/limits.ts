import { DomainError } from '../../errors.js';

function formatBytes(n: number): string {
  return n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MB`
    : `${Math.ceil(n / 1024)} KB`;
}

/** The one refusal for files over IMPORT_MAX_BYTES, whichever entry point notices first. */
export function tooLarge(maxBytes: number): DomainError {
  return new DomainError(
    'too_large',
    `The file is larger than the ${formatBytes(maxBytes)} limit. Split it into smaller files.`,
    { limitBytes: maxBytes },
  );
}
