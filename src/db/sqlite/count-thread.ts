import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { SendStatusCount } from '../../core/campaigns/campaign-store.js';
import { spawnWorker } from '../../worker-thread.js';
import type { Sqlite } from '../client.js';
import type { CountedFigures } from './count-reader.js';

/** What count-worker.ts is asked (one at a time, in order). */
export type CountJob =
  | { kind: 'count' }
  | { kind: 'reasons'; batchId: string; campaignId: string | null }
  | { kind: 'remaining'; campaignId: string }
  | { kind: 'sends'; campaignId: string }
  | { kind: 'figures'; campaignId: string | null; audience: boolean; sequence: boolean };

/** What count-worker.ts is given. */
export type CountWorkerInput = { databasePath: string };

const n = z.number().int();
const reasonsSchema = z.array(z.object({ reason: z.string(), n }));
const statusCount = z.object({
  status: z.string(),
  n,
  unsub: n,
  accepted: n.optional(),
  replied: n,
  complained: n,
  softBounced: n,
  interested: n,
});
const sendsSchema = z.array(statusCount);
const sequenceSchema = z.object({
  steps: z.array(statusCount.extend({ step: n, variant: n.nullable() })),
  waiting: n,
  nextDueAt: z.number().nullable(),
});
const figuresSchema = z.object({
  sends: sendsSchema,
  audience: z
    .object({
      batch: z.object({ id: z.string(), name: z.string(), activatedAt: n.nullable() }).nullable(),
      reasons: reasonsSchema,
    })
    .nullable(),
  sequence: sequenceSchema.optional(),
});
const answerSchema = z.discriminatedUnion('ok', [
  z.object({ id: n, ok: z.literal(true), value: z.unknown() }),
  z.object({ id: n, ok: z.literal(false), message: z.string() }),
]);

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/**
 * The long-lived counting thread of the app: count-worker.ts with a read-only connection of its
 * own runs the audience counts (hundreds of ms at a million contacts) while the event loop keeps
 * answering. Started at the first count, reused for every later one, ended by close(); a worker
 * that dies fails the counts under way and the next count starts a new one. It keeps the process
 * alive only while a count is under way.
 */
export class CountThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly databasePath: string) {}

  /** A counting thread over the file this connection opened; null for an in-memory database (no other connection can open it). */
  static over(sqlite: Sqlite): CountThread | null {
    return sqlite.memory ? null : new CountThread(resolve(sqlite.name));
  }

  /** Whether the worker thread is running. */
  get running(): boolean {
    return this.worker !== null;
  }

  count(): Promise<number> {
    return this.run({ kind: 'count' }).then((v) => n.parse(v));
  }

  reasons(batchId: string, campaignId: string | null): Promise<{ reason: string; n: number }[]> {
    return this.run({ kind: 'reasons', batchId, campaignId }).then((v) => reasonsSchema.parse(v));
  }

  remaining(campaignId: string): Promise<number> {
    return this.run({ kind: 'remaining', campaignId }).then((v) => n.parse(v));
  }

  sends(campaignId: string): Promise<SendStatusCount[]> {
    return this.run({ kind: 'sends', campaignId }).then((v) => sendsSchema.parse(v));
  }

  figures(campaignId: string | null, audience: boolean, sequence = false): Promise<CountedFigures> {
    return this.run({ kind: 'figures', campaignId, audience, sequence }).then((v) => figuresSchema.parse(v));
  }

  /** Ends the worker thread (a count under way fails); later counts are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(new Error('the counting thread was closed'));
    if (w) await w.terminate();
  }

  private run(job: CountJob): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the counting thread was closed'));
    const w = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ id, job });
    });
  }

  private start(): Worker {
    const input: CountWorkerInput = { databasePath: this.databasePath };
    const w = spawnWorker(import.meta.url, './count-worker', input);
    w.unref();
    w.on('message', (m: unknown) => this.settle(m));
    w.on('error', (e) => this.lost(w, e));
    w.on('exit', (code) => this.lost(w, new Error(`the counting thread stopped (exit code ${code})`)));
    this.worker = w;
    return w;
  }

  private settle(m: unknown): void {
    const parsed = answerSchema.safeParse(m);
    if (!parsed.success) {
      this.failAll(new Error('the counting thread answered something else'));
      return;
    }
    const a = parsed.data;
    const p = this.pending.get(a.id);
    if (!p) return;
    this.pending.delete(a.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (a.ok) p.resolve(a.value);
    else p.reject(new Error(`count failed: ${a.message}`));
  }

  private lost(w: Worker, e: Error): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.failAll(e);
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }
}
