/**
 * The worker-thread half of the checkpointer (checkpointer.ts): its own connection copies the
 * WAL back into the database file every `intervalMs` with a PASSIVE checkpoint (it never waits
 * for or blocks the app's writers), so the app's connection can leave automatic checkpoints off
 * and its event loop never pays for one. Stops on a 'stop' message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { z } from 'zod';

const { path, intervalMs } = z
  .object({ path: z.string().min(1), intervalMs: z.number().int().positive() })
  .parse(workerData);

const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const tick = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy (a TRUNCATE checkpoint or a backup under way): the next tick tries again
  }
}, intervalMs);
parentPort?.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(tick);
  db.close();
  parentPort?.close();
});
parentPort?.postMessage('ready');
