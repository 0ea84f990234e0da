/**
 * The worker-thread half of a batch report: its own read-only connection runs the report's
 * group-bys (over a second at a million contacts) while the main thread keeps answering.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { openReadOnlyDb } from '../../db/client.js';
import { isDomainError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { BatchService } from '../batches/batch-service.js';
import { ReportService } from './report-service.js';

const input = z
  .object({ databasePath: z.string().min(1), batchId: z.string(), now: z.number() })
  .parse(workerData);
const db = openReadOnlyDb(input.databasePath);
try {
  const deps = { db, log: createLogger('silent'), clock: { now: () => input.now } };
  const report = new ReportService(deps, new BatchService(deps)).batchReport(input.batchId);
  parentPort?.postMessage({ ok: true, report });
} catch (e) {
  parentPort?.postMessage({
    ok: false,
    error: isDomainError(e)
      ? { code: e.code, message: e.message, details: e.details }
      : { message: e instanceof Error ? (e.stack ?? e.message) : String(e) },
  });
} finally {
  db.$client.close();
}
