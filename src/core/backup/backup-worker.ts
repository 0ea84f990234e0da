/**
 * The worker-thread half of a backup: its own read-only connection copies a consistent snapshot
 * with VACUUM INTO (WAL readers do not block writers, and the main thread's event loop keeps
 * running), then checks the copy. Posts a BackupCheck.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { z } from 'zod';

const { source, target } = z
  .object({ source: z.string().min(1), target: z.string().min(1) })
  .parse(workerData);

const quoted = `'${target.replaceAll("'", "''")}'`;
const db = new Database(source, { readonly: true, fileMustExist: true });
try {
  db.pragma('busy_timeout = 5000');
  db.exec(`VACUUM INTO ${quoted}`);
} finally {
  db.close();
}
const copy = new Database(target, { readonly: true, fileMustExist: true });
try {
  const count = (table: string) => copy.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  parentPort?.postMessage({
    integrity: String(copy.pragma('integrity_check', { simple: true })),
    foreignKeyProblems: (copy.pragma('foreign_key_check') as unknown[]).length,
    batches: count('batches'),
    contacts: count('contacts'),
  });
} finally {
  copy.close();
}
