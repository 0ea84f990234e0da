import { parse } from 'csv-parse/sync';
import { DomainError } from '../../errors.js';
import { extractEmail, isSendableEmail } from './email.js';
import { type ColumnMap, isOptedOutExport, mapHeader } from './headers.js';

export const delimiters = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof delimiters)[number];

/** The csv-parse options every reader of an import uses, so the sample and the stream agree. */
export function parserOptions(delimiter: Delimiter) {
  return {
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    ltrim: true,
    rtrim: true,
  };
}

export type Dialect = {
  delimiter: Delimiter;
  /** Index of the header record among parsed records (preamble records come before it); -1 when headerless. */
  headerIndex: number;
  header: string[];
  columns: ColumnMap;
};

const maxPreambleRecords = 20;

/** Line breaks inside a record's quoted cells (a CRLF counts once). */
export function lineBreaks(cells: string[]): number {
  let n = 0;
  for (const cell of cells) {
    if (cell.indexOf('\n') < 0 && cell.indexOf('\r') < 0) continue;
    n += cell.match(/\r\n|\r|\n/g)?.length ?? 0;
  }
  return n;
}

/** An empty line, as csv-parse gives it when empty lines are kept. */
export const isEmptyLine = (cells: string[]) => cells.length === 1 && cells[0] === '';

function tryParse(text: string, delimiter: Delimiter): string[][] | null {
  // Lines are counted in record order (every line parsed, empty ones dropped after counting), as the
  // reader in table.ts does, so a broken record's start line is known.
  let next = 1;
  try {
    return parse(text, {
      ...parserOptions(delimiter),
      skip_empty_lines: false,
      to: 200,
      on_record: (cells) => {
        next += 1 + lineBreaks(cells);
        return isEmptyLine(cells) ? null : cells;
      },
    });
  } catch {
    // Judge the records before the one that broke (e.g. where a quote opened and never closed).
    if (next < 2) return null;
    const before = text
      .split(/\r\n|\n|\r/)
      .slice(0, next - 1)
      .join('\n');
    return before.length < text.length ? tryParse(before, delimiter) : null;
  }
}

function parseSample(text: string, delimiter: Delimiter, complete: boolean): string[][] {
  // Cut at the last line break so a record split by the sample boundary is not judged.
  const cut = text.slice(0, Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) + 1);
  // A complete file that does not parse (an unclosed quote) is still judged on the lines before
  // the break; reading the whole file then reports where it breaks (malformed_csv).
  return (complete ? tryParse(text, delimiter) : tryParse(cut, delimiter)) ?? [];
}

type Candidate = {
  delimiter: Delimiter;
  records: string[][];
  headerIndex: number;
  columns: ColumnMap | null;
  score: number;
};

function scoreCandidate(delimiter: Delimiter, records: string[][]): Candidate {
  const limit = Math.min(records.length, maxPreambleRecords);
  let headerIndex = -1;
  let columns: ColumnMap | null = null;
  for (let i = 0; i < limit; i++) {
    columns = mapHeader(records[i]!);
    if (columns) {
      headerIndex = i;
      break;
    }
  }
  const start = Math.max(headerIndex, 0);
  const width = records[start]?.length ?? 0;
  const body = records.slice(start);
  const consistent = body.filter((r) => r.length === width).length / Math.max(body.length, 1);
  const score = (headerIndex >= 0 ? 1000 : 0) + (width > 1 ? consistent * 100 + Math.min(width, 50) : 0);
  return { delimiter, records, headerIndex, columns, score };
}

/** Every delimiter's reading of the sample, best first (a reading that finds a header row wins). */
function rankDelimiters(text: string, complete: boolean): Candidate[] {
  const scored = delimiters.map((d) => scoreCandidate(d, parseSample(text, d, complete)));
  return scored.sort((a, b) => b.score - a.score);
}

/** The delimiter whose parse of the sample is the most consistent table (for files without an e-mail header). */
export function detectDelimiter(text: string, complete: boolean): Delimiter {
  return rankDelimiters(text, complete)[0]!.delimiter;
}

/** Finds the delimiter, any preamble before the header, and the column mapping from the first part of the file. */
export function detectDialect(text: string, complete: boolean): Dialect {
  const best = rankDelimiters(text, complete)[0]!;
  if (best.headerIndex >= 0 && best.columns) {
    const header = best.records[best.headerIndex]!;
    if (isOptedOutExport(header)) {
      throw new DomainError(
        'opted_out_list',
        'This is a list of people who unsubscribed or bounced (a Mailchimp unsubscribed/cleaned export). ' +
          'They must not be e-mailed: import the subscribed members file instead.',
      );
    }
    return {
      delimiter: best.delimiter,
      headerIndex: best.headerIndex,
      header,
      columns: best.columns,
    };
  }
  // No header row: accept a headerless file whose first record holds an address.
  const first = best.records[0] ?? [];
  const emailAt = first.findIndex((cell) => isSendableEmail(extractEmail(cell)));
  if (emailAt >= 0) {
    return {
      delimiter: best.delimiter,
      headerIndex: -1,
      header: [],
      columns: {
        email: [emailAt],
        fullName: [],
        firstName: [],
        middleName: [],
        lastName: [],
        company: [],
        position: [],
        source: [],
      },
    };
  }
  const found = first.filter((c) => c !== '').slice(0, 20);
  throw new DomainError(
    'no_email_column',
    found.length > 0
      ? `No e-mail column found. The first row has: ${found.map((c) => JSON.stringify(c.slice(0, 40))).join(', ')}. ` +
          'Name the column with the addresses "email" (or "e-mail", "Email Address").'
      : 'No e-mail column found: add a header row with a column named "email".',
    { headersFound: found },
  );
}
