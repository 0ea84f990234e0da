import { z } from 'zod';
import { extractEmail, isSendableEmail } from './email.js';
import type { ColumnMap } from './headers.js';

export const maxFieldLength = 500;

const optionalText = z
  .string()
  .transform((s) => s.trim().slice(0, maxFieldLength))
  .transform((s) => (s === '' ? null : s));

/** A contact row as the import stores it. */
export const contactRowSchema = z.object({
  email: z.string().refine(isSendableEmail),
  name: optionalText,
  company: optionalText,
  position: optionalText,
  source: optionalText,
});
export type ContactRow = z.infer<typeof contactRowSchema>;

export type RowResult = { ok: true; row: ContactRow } | { ok: false; reason: string };

const first = (cells: string[], idx: number[]): string => {
  for (const i of idx) {
    const v = cells[i]?.trim();
    if (v) return v;
  }
  return '';
};

/** True when every cell is blank (e.g. `,,,,`): such lines are skipped like empty lines. */
export const isBlankRecord = (cells: string[]) => cells.every((c) => c.trim() === '');

/** Turns one CSV record into a validated contact row, or the reason it is invalid. */
export function toContactRow(cells: string[], columns: ColumnMap): RowResult {
  let email = '';
  let raw = '';
  for (const i of columns.email) {
    const cell = cells[i]?.trim();
    if (!cell) continue;
    const candidate = extractEmail(cell);
    if (raw === '') raw = cell;
    if (isSendableEmail(candidate)) {
      email = candidate;
      break;
    }
  }
  if (raw === '') return { ok: false, reason: 'no e-mail address' };
  const joined = [
    first(cells, columns.firstName),
    first(cells, columns.middleName),
    first(cells, columns.lastName),
  ]
    .filter(Boolean)
    .join(' ');
  const parsed = contactRowSchema.safeParse({
    email,
    name: first(cells, columns.fullName) || joined,
    company: first(cells, columns.company),
    position: first(cells, columns.position),
    source: first(cells, columns.source),
  });
  if (!parsed.success)
    return { ok: false, reason: `invalid e-mail address ${JSON.stringify(raw.slice(0, 80))}` };
  return { ok: true, row: parsed.data };
}
