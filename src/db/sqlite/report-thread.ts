import { resolve } from 'node:path';
import { z } from 'zod';
import type { BatchFigures } from '../../core/reports/report-store.js';
import { campaignStatuses, contactStatuses } from '../../core/vocabulary.js';
import { spawnWorker } from '../../worker-thread.js';

const count = z.number().int();
const statusCount = z.object({
  status: z.string(),
  n: count,
  unsub: count,
  replied: count,
  complained: count,
  softBounced: count,
  interested: count,
});
const figuresSchema = z.object({
  contacts: z.array(z.object({ status: z.enum(contactStatuses), n: count })),
  validation: z.array(z.object({ validation: z.string().nullable(), n: count })),
  campaigns: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      status: z.enum(campaignStatuses),
      byStatus: z.array(statusCount),
      sentPerDay: z.array(z.object({ day: count, n: count })),
      byStep: z.array(statusCount.extend({ step: count, variant: count.nullable() })).optional(),
    }),
  ),
  peopleSent: count,
});

const answerSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), figures: figuresSchema }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);

/** What report-worker.ts is given. */
export type ReportWorkerInput = { databasePath: string; batchId: string };

/** A full report's counts, read by report-worker.ts in a worker thread on a read-only connection of its own. */
export async function figuresOffThread(databasePath: string, batchId: string): Promise<BatchFigures> {
  const input: ReportWorkerInput = { databasePath: resolve(databasePath), batchId };
  const answer = await new Promise<unknown>((done, fail) => {
    const worker = spawnWorker(import.meta.url, './report-worker', input);
    let message: unknown;
    worker.once('message', (m: unknown) => {
      message = m;
    });
    worker.once('error', fail);
    worker.once('exit', (code) =>
      message === undefined ? fail(new Error(`report worker stopped (exit code ${code})`)) : done(message),
    );
  });
  const parsed = answerSchema.parse(answer);
  if (!parsed.ok) throw new Error(`report failed: ${parsed.message}`);
  return parsed.figures;
}
