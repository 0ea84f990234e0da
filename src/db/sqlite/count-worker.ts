/**
 * The worker-thread half of CountThread (count-thread.ts): a read-only connection of its own
 * runs the audience counts one at a time, in the order they were asked, while the main thread
 * keeps answering. Lives until the app ends it. It loads better-sqlite3 and the SQL alone (no
 * drizzle, no zod), so it starts fast and stays small; count-thread.ts checks what it answers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { CountReader } from './count-reader.js';
import type { CountJob } from './count-thread.js';

const input: unknown = workerData;
const databasePath =
  typeof input === 'object' && input !== null && 'databasePath' in input ? input.databasePath : null;
if (typeof databasePath !== 'string') throw new Error('count-worker: no databasePath');
const sqlite = new Database(databasePath, { readonly: true, fileMustExist: true });
sqlite.pragma('busy_timeout = 5000');
sqlite.pragma('cache_size = -16384');
const reader = new CountReader(sqlite);

function run(job: CountJob): unknown {
  switch (job.kind) {
    case 'count':
      return reader.count();
    case 'reasons':
      return reader.reasons(job.batchId, job.campaignId);
    case 'remaining':
      return reader.remaining(job.campaignId);
    case 'sends':
      return reader.sends(job.campaignId);
    case 'figures':
      return reader.figures(job.campaignId, job.audience, job.sequence);
  }
}

// Only count-thread.ts posts here, with a CountJob it built.
parentPort?.on('message', ({ id, job }: { id: number; job: CountJob }) => {
  try {
    parentPort?.postMessage({ id, ok: true, value: run(job) });
  } catch (e) {
    parentPort?.postMessage({ id, ok: false, message: e instanceof Error ? e.message : String(e) });
  }
});
