import { resolve } from 'node:path';
import type { Logger } from '../../logger.js';
import { spawnWorker } from '../../worker-thread.js';
import type { Db } from '../client.js';

/** SQLite's default: a checkpoint on the committing connection once the WAL holds 1000 pages. */
const autoCheckpointPages = 1000;

/**
 * Moves WAL checkpoints off the app's event loop: a worker thread (checkpoint-worker.ts) with a
 * connection of its own checkpoints every `intervalMs`, and the app's connection stops doing it
 * at commit (a checkpoint there blocked the loop for 50–100 ms during a large import). If the
 * worker stops unexpectedly, automatic checkpoints come back on the app's connection, so the WAL
 * never grows without bound.
 */
export async function startCheckpointer(
  db: Db,
  path: string,
  log: Logger,
  intervalMs = 1000,
): Promise<{ stop(): Promise<void> }> {
  const worker = spawnWorker(import.meta.url, './checkpoint-worker', { path: resolve(path), intervalMs });
  let stopping = false;
  await new Promise<void>((ready, fail) => {
    worker.once('message', () => ready());
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`checkpoint worker stopped (exit code ${code})`)));
  });
  db.$client.pragma('wal_autocheckpoint = 0');
  worker.removeAllListeners('exit');
  worker.removeAllListeners('error');
  worker.on('error', (e) => log.error({ err: e }, 'checkpoint worker failed'));
  worker.once('exit', () => {
    if (!db.$client.open) return;
    db.$client.pragma(`wal_autocheckpoint = ${autoCheckpointPages}`);
    if (!stopping) log.warn('checkpoint worker stopped: checkpoints happen at commit again');
  });
  worker.unref();
  return {
    async stop() {
      stopping = true;
      const exited = new Promise<void>((done) => worker.once('exit', () => done()));
      worker.postMessage('stop');
      await exited;
    },
  };
}
