/**
 * The worker-thread half of a backup: its own read-only connection copies a consistent snapshot
 * with VACUUM INTO (WAL readers do not block writers, and the main thread's event loop keeps
 * running), then checks the copy. Posts a SnapshotCheck (backup-store.ts reads it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { inspectFile } from '../backup-check.js';

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
const { integrity, foreignKeyProblems, batches, contacts } = inspectFile(target);
parentPort?.postMessage({ integrity, foreignKeyProblems, batches, contacts });
