import { z } from 'zod';
import { extractEmail, isSendableEmail } from './email.js';
import type { ColumnMap } from './headers.js';

export const maxFieldLength = 500;

const optionalText = z.string().max(maxFieldLength).nullable();

/** A contact row as the import stores it: the address is already normalized and checked sendable. */
export const contactRowSchema = z.object({
  email: z.string().min(3).max(254),
  name: optionalText,
  company: optionalText,
  position: optionalText,
  source: optionalText,
});
export type ContactRow = z.infer<typeof contactRowSchema>;

/** Trimmed, capped at maxFieldLength, empty → null. */
const field = (s: string): string | null =>
  s === '' ? null : s.length > maxFieldLength ? s.slice(0, maxFieldLength) : s;

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
  if (email === '')
    return { ok: false, reason: `invalid e-mail address ${JSON.stringify(raw.slice(0, 80))}` };
  let name = first(cells, columns.fullName);
  if (name === '') {
    for (const part of [
      first(cells, columns.firstName),
      first(cells, columns.middleName),
      first(cells, columns.lastName),
    ]) {
      if (part) name = name ? `${name} ${part}` : part;
    }
  }
  const parsed = contactRowSchema.safeParse({
    email,
    name: field(name),
    company: field(first(cells, columns.company)),
    position: field(first(cells, columns.position)),
    source: field(first(cells, columns.source)),
  });
  if (!parsed.success)
    return { ok: false, reason: `invalid row: ${parsed.error.issues[0]?.message ?? 'unreadable'}` };
  return { ok: true, row: parsed.data };
}
