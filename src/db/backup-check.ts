import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/** What a database file holds, as a backup is checked: its integrity and its batches and contacts. */
export type FileCheck = {
  integrity: string;
  foreignKeyProblems: number;
  /** False when the file has no batches/contacts tables (not a coldbatch database). */
  coldbatch: boolean;
  batches: number;
  contacts: number;
};

/** Opens the file read-only and checks it (integrity_check, foreign_key_check, counts). */
export function inspectFile(file: string): FileCheck {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    const coldbatch = tables.includes('batches') && tables.includes('contacts');
    const count = (t: string) =>
      coldbatch ? (db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number) : 0;
    return {
      integrity,
      foreignKeyProblems: (db.pragma('foreign_key_check') as unknown[]).length,
      coldbatch,
      batches: count('batches'),
      contacts: count('contacts'),
    };
  } finally {
    db.close();
  }
}

/** Refuses a file that is not a sound coldbatch database (npm run restore); counts what it holds. */
export function checkBackup(file: string): { batches: number; contacts: number } {
  if (!existsSync(file)) throw new Error(`${file} does not exist.`);
  const found = inspectFile(file);
  if (found.integrity !== 'ok')
    throw new Error(`${file} fails integrity_check (${found.integrity}); pick another backup.`);
  if (!found.coldbatch) throw new Error(`${file} is not a coldbatch database (no batches/contacts tables).`);
  return { batches: found.batches, contacts: found.contacts };
}
