import { availableParallelism } from 'node:os';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { spawnWorker } from '../../worker-thread.js';
import {
  type Command,
  type FromMain,
  isLast,
  type JobId,
  type Reply,
  type ToMain,
} from './worker-protocol.js';

/**
 * Parse workers at once: one fewer than the cores (the main thread writes), at least one. More
 * concurrent imports read on the main thread, so twenty uploads do not start twenty threads.
 */
export const defaultParseWorkers = Math.max(1, availableParallelism() - 1);

/**
 * The parse thread's heap. Left to Node's defaults it grew a 32 MB young generation (~46 MB of
 * heap in all, the largest part of what a 1M-row import added to the server's RSS). What it
 * holds live is small and bounded (a few byte chunks, one batch of records, the chunks not yet
 * taken by the writer, a sample of at most 4 MB): an 8 MB semi-space keeps it at ~36 MB for ~10 %
 * more CPU in the thread (a 4 MB one saved 8 MB more but cost ~40 %, slowing the import). The old
 * generation's cap (64 MB) makes V8 collect it before promoted garbage piles up; a file that
 * needed more would fail only its import.
 */
export const parseWorkerLimits: ResourceLimits = { maxYoungGenerationSizeMb: 24, maxOldGenerationSizeMb: 64 };

/** How long a cancelled import's worker may take to stop reading before it is replaced. */
const cancelGraceMs = 5_000;

/** What one import hears from its worker. */
export type JobEvents = {
  /** A message about this import, its last one (done, failed, cancelled) included. */
  message(m: Reply): void;
  /** The thread stopped before the import's last message (a crash, or the app stopping). */
  lost(e: Error): void;
};

type Thread = { worker: Worker; job: ParseJob | null; dead: boolean; stopped: boolean };

/** One import on a parse worker. */
export class ParseJob {
  private ended = false;
  private settle: () => void = () => {};
  /** Settles when the worker is done with this import (its last message, or the thread lost). */
  private readonly over = new Promise<void>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    readonly id: JobId,
    private readonly worker: Worker,
    readonly events: JobEvents,
    private readonly kill: (reason: string) => void,
  ) {}

  /** Tells the worker something about this import; nothing once the import is over. */
  post(m: Command, transfer: ArrayBuffer[] = []): void {
    if (this.ended) return;
    const message: FromMain = { ...m, job: this.id };
    this.worker.postMessage(message, transfer);
  }

  /** Stops the import if the worker is still reading it, and waits until the worker is free (or replaced). */
  async cancel(): Promise<void> {
    if (this.ended) return;
    this.post({ type: 'cancel' });
    const timer = setTimeout(
      () => this.kill(`it did not stop within ${cancelGraceMs} ms of a cancel`),
      cancelGraceMs,
    );
    await this.over;
    clearTimeout(timer);
  }

  /** Called by the pool once: after the last message, or when the thread is lost. */
  end(): void {
    this.ended = true;
    this.settle();
  }
}

/**
 * Long-lived parse worker threads (parse-worker.ts), each reading one import at a time. A thread
 * starts on the first import that needs one and then serves every later import: starting one
 * costs far more than a small file takes to read (a module graph to load, under tsx its
 * transpiler too) and every thread adds its own heap. An import that fails or is cancelled leaves
 * its thread ready for the next; a thread that dies fails only its import and is replaced by the
 * next import that needs one. An idle thread does not keep the process alive.
 */
export class ParseWorkers {
  private readonly threads: Thread[] = [];
  private nextJob = 1;
  private starts = 0;

  constructor(private readonly size = defaultParseWorkers) {}

  /**
   * Starts reading an import on a free worker (a thread is started if none is idle and fewer than
   * `size` are running); null when every worker is busy.
   */
  begin(maxBytes: number, events: JobEvents): ParseJob | null {
    const thread = this.threads.find((t) => t.job === null) ?? this.spawn();
    if (!thread) return null;
    const job = new ParseJob(this.nextJob++, thread.worker, events, (reason) => this.kill(thread, reason));
    thread.job = job;
    thread.worker.ref();
    job.post({ type: 'start', maxBytes });
    return job;
  }

  /** Threads started so far (a reused thread counts once). */
  get started(): number {
    return this.starts;
  }

  /** The live threads, idle or busy (tests watch them end). */
  workers(): Worker[] {
    return this.threads.map((t) => t.worker);
  }

  /**
   * Ends every thread (an import still being read in one fails). The set stays usable: an import
   * after this starts a thread again (tests run several apps in one process).
   */
  async stop(): Promise<void> {
    const threads = this.threads.splice(0);
    for (const t of threads) t.stopped = true;
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private spawn(): Thread | null {
    if (this.threads.length >= this.size) return null;
    const worker = spawnWorker(import.meta.url, './parse-worker', null, parseWorkerLimits);
    const thread: Thread = { worker, job: null, dead: false, stopped: false };
    this.starts++;
    this.threads.push(thread);
    worker.on('message', (m: ToMain) => {
      const job = thread.job;
      if (!job || m.job !== job.id) return; // an import already given up
      job.events.message(m);
      if (!isLast(m)) return;
      thread.job = null;
      worker.unref();
      job.end();
    });
    worker.on('error', (e) => this.lost(thread, `it failed: ${e.message}`));
    worker.on('exit', (code) => this.lost(thread, `exit code ${code}`));
    return thread;
  }

  private kill(thread: Thread, reason: string): void {
    this.lost(thread, reason);
    void thread.worker.terminate();
  }

  /** The thread is gone: fail its import, and let the next import start a new one. */
  private lost(thread: Thread, reason: string): void {
    if (thread.dead) return;
    thread.dead = true;
    const at = this.threads.indexOf(thread);
    if (at >= 0) this.threads.splice(at, 1);
    const job = thread.job;
    thread.job = null;
    if (!job) return;
    job.events.lost(
      new Error(
        thread.stopped
          ? 'The import was stopped because the app is shutting down. Send the file again once it is back.'
          : `The import worker stopped unexpectedly (${reason}) before the end of the file. Send the file again.`,
      ),
    );
    job.end();
  }
}

/**
 * The process's parse workers, shared by every ImportService in it: threads are bounded by the
 * cores, not by the number of services (the CLI and each test build their own).
 */
export const sharedParseWorkers = new ParseWorkers();
