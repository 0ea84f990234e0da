import { DomainError } from '../../errors.js';
import type { ImportReport } from '../batches/batch.js';

/** The refusal of a file none of whose rows holds a valid address, or null. */
export function noValidRows(report: ImportReport): DomainError | null {
  if (report.rows - report.invalid > 0) return null;
  const firstError = report.errors[0];
  return new DomainError(
    'no_valid_rows',
    report.rows === 0
      ? 'The file has a header but no contact rows.'
      : `None of the ${report.rows} rows has a valid e-mail address` +
          (firstError ? ` (line ${firstError.line}: ${firstError.reason})` : '') +
          '. Check that the e-mail column holds addresses.',
    { rows: report.rows, errors: report.errors.slice(0, 10) },
  );
}

/**
 * The refusal of a file that adds nobody, naming where its addresses already are (the five
 * batches holding most of them, the suppressed, the repeated), or null.
 */
export function noNewContacts(report: ImportReport, holders: Map<string, number>): DomainError | null {
  if (report.imported > 0) return null;
  const where = [...holders.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([id, n]) => `${n} in ${id}`);
  if (report.suppressed > 0) where.push(`${report.suppressed} suppressed (bounced, unsubscribed or deleted)`);
  if (report.duplicateInFile > 0) where.push(`${report.duplicateInFile} repeated in the file`);
  return new DomainError(
    'no_new_contacts',
    `No new contacts: every valid address is already known (${where.join(', ')}). ` +
      'Activate the batch that holds them instead.',
    { existingByBatch: Object.fromEntries(holders), suppressed: report.suppressed },
  );
}
