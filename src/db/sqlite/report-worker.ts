/**
 * The worker-thread half of a batch report: its own read-only connection runs the report's
 * group-bys (over a second at a million contacts) while the main thread keeps answering. Posts
 * the counts (report-thread.ts reads them); the main thread builds the report from them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { openReadOnlyDb } from '../client.js';
import { SqliteReportStore } from './report-store.js';

const input = z.object({ databasePath: z.string().min(1), batchId: z.string() }).parse(workerData);
const db = openReadOnlyDb(input.databasePath);
try {
  const figures = await new SqliteReportStore(db.$client).batchFigures(input.batchId);
  parentPort?.postMessage({ ok: true, figures });
} catch (e) {
  parentPort?.postMessage({ ok: false, message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
} finally {
  db.$client.close();
}
