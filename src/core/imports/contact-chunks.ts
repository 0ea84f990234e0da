import { emailHash } from '../contacts/email-hash.js';
import { hashBytes } from './contact-import-store.js';
import type { Delimiter } from './dialect.js';
import { type ContactRow, isBlankRecord, toContactRow } from './rows.js';
import type { Encoding } from './sniff.js';
import type { OpenedTable } from './table.js';

/** At most this many invalid rows are listed (with line and reason) in an import report. */
export const maxReportedErrors = 100;

/** Validated contact rows of a stretch of the file, with what was skipped in that stretch. */
export type ContactChunk = {
  rows: ContactRow[];
  /** emailHash of each row, `hashBytes` each, in row order. */
  hashes: Uint8Array;
  /** Records that were not blank (valid or not). */
  records: number;
  invalid: number;
  /** Invalid rows to list in the report (the first maxReportedErrors of the file). */
  errors: { line: number; reason: string }[];
};

/** A contact table being read: what was detected, then its rows in chunks. */
export type ContactStream = {
  encoding: Encoding;
  delimiter: Delimiter;
  chunks: AsyncIterable<ContactChunk>;
  bytesRead(): number;
  /** Known once the chunks are exhausted. */
  sha256(): string;
  /** Releases what reading holds (a worker thread, the byte source) when stopped early. */
  close(): Promise<void>;
};

/** Turns a table's records into validated rows and their hashes, the CPU work of an import. */
export async function* contactChunks(table: OpenedTable): AsyncGenerator<ContactChunk> {
  const columns = table.dialect.columns;
  let reported = 0;
  for await (const batch of table.records) {
    const rows: ContactRow[] = [];
    const errors: ContactChunk['errors'] = [];
    let records = 0;
    let invalid = 0;
    for (const record of batch) {
      if (isBlankRecord(record.cells)) continue;
      records++;
      const result = toContactRow(record.cells, columns);
      if (result.ok) {
        rows.push(result.row);
        continue;
      }
      invalid++;
      if (reported < maxReportedErrors) {
        reported++;
        errors.push({ line: record.line, reason: result.reason });
      }
    }
    const hashes = new Uint8Array(rows.length * hashBytes);
    for (let i = 0; i < rows.length; i++) hashes.set(emailHash(rows[i]!.email), i * hashBytes);
    yield { rows, hashes, records, invalid, errors };
  }
}

/** Rows as one string for a thread hop: fields joined by NUL (decoding strips NUL), null as ''. */
const fieldSeparator = '\0';
const fieldsPerRow = 5;

export function packRows(rows: ContactRow[]): string {
  const parts: string[] = new Array(rows.length * fieldsPerRow);
  let k = 0;
  for (const r of rows) {
    parts[k++] = r.email;
    parts[k++] = r.name ?? '';
    parts[k++] = r.company ?? '';
    parts[k++] = r.position ?? '';
    parts[k++] = r.source ?? '';
  }
  return parts.join(fieldSeparator);
}

export function unpackRows(packed: string, count: number): ContactRow[] {
  if (count === 0) return [];
  const parts = packed.split(fieldSeparator);
  const rows: ContactRow[] = new Array(count);
  const orNull = (s: string | undefined) => (s ? s : null);
  for (let i = 0, k = 0; i < count; i++) {
    rows[i] = {
      email: parts[k++]!,
      name: orNull(parts[k++]),
      company: orNull(parts[k++]),
      position: orNull(parts[k++]),
      source: orNull(parts[k++]),
    };
  }
  return rows;
}
