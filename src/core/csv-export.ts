/** What every CSV export shares: streaming page by page, and cells made safe for spreadsheets. */
import { stringify } from 'csv-stringify';

/** Spreadsheet formula injection: a cell starting with = + - @ tab or CR is prefixed with an apostrophe. */
export function neutralizeCell(value: string | null | undefined): string {
  if (value == null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** An epoch-ms time as ISO 8601, empty when absent. */
export const iso = (ms: number | null | undefined) => (ms == null ? '' : new Date(ms).toISOString());

/**
 * A CSV stream (header, CRLF) filled page by page from `page(afterId)` (a store read) until it returns no row,
 * so memory stays flat for any size; every text cell goes through neutralizeCell.
 */
export function csvPages<R extends { id: number }>(
  columns: readonly string[],
  page: (afterId: number) => R[] | Promise<R[]>,
  cells: (row: R) => (string | null | undefined)[],
): AsyncIterable<string> {
  const out = stringify({ header: true, columns: [...columns], record_delimiter: '\r\n' });
  (async () => {
    let after = 0;
    for (;;) {
      const rows = await page(after);
      if (rows.length === 0) break;
      for (const r of rows) {
        const ok = out.write(cells(r).map(neutralizeCell));
        if (!ok) await new Promise((res) => out.once('drain', res));
      }
      after = rows.at(-1)!.id;
    }
    out.end();
  })().catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
  return out;
}

/** Rows read per page by every export. */
export const pageSize = 2000;
