import { stringify } from 'csv-stringify';
import type { CoreDeps } from '../types.js';

export const exportColumns = [
  'email',
  'name',
  'company',
  'position',
  'status',
  'source',
  'created_at',
] as const;

/** Spreadsheet formula injection: a cell starting with = + - @ tab or CR is prefixed with an apostrophe. */
export function neutralizeCell(value: string | null): string {
  if (value == null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

type ExportRow = {
  id: number;
  email: string;
  name: string | null;
  company: string | null;
  position: string | null;
  status: string;
  source: string | null;
  created_at: number;
};

/** Streams a batch's contacts as CSV text, page by page (memory stays flat for any size). */
export function exportBatchCsv(deps: CoreDeps, batchId: string, pageSize = 2000): AsyncIterable<string> {
  const stmt = deps.db.$client.prepare<[string, number, number], ExportRow>(
    `SELECT id, email, name, company, position, status, source, created_at FROM contacts
     WHERE batch_id = ? AND id > ? ORDER BY id LIMIT ?`,
  );
  const out = stringify({ header: true, columns: [...exportColumns], record_delimiter: '\r\n' });
  (async () => {
    let after = 0;
    for (;;) {
      const rows = stmt.all(batchId, after, pageSize);
      if (rows.length === 0) break;
      for (const r of rows) {
        const ok = out.write([
          neutralizeCell(r.email),
          neutralizeCell(r.name),
          neutralizeCell(r.company),
          neutralizeCell(r.position),
          r.status,
          neutralizeCell(r.source),
          new Date(r.created_at).toISOString(),
        ]);
        if (!ok) await new Promise((res) => out.once('drain', res));
      }
      after = rows.at(-1)!.id;
    }
    out.end();
  })().catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
  return out;
}
