import { resolve } from 'node:path';
import { z } from 'zod';
import type { BackupStore, SnapshotCheck } from '../../core/backup/backup-store.js';
import { spawnWorker } from '../../worker-thread.js';

const checkSchema = z.object({
  integrity: z.string(),
  foreignKeyProblems: z.number().int(),
  batches: z.number().int(),
  contacts: z.number().int(),
});

/**
 * The SQLite BackupStore: VACUUM INTO in a worker thread (backup-worker.ts) on a read-only
 * connection of its own, so imports and sends go on and the event loop keeps running. Needs only
 * the database file's path (`npm run backup` opens no connection of its own).
 */
export class SqliteBackupStore implements BackupStore {
  constructor(private readonly databasePath: string) {}

  snapshot(target: string): Promise<SnapshotCheck> {
    return new Promise((done, fail) => {
      const worker = spawnWorker(import.meta.url, './backup-worker', {
        source: resolve(this.databasePath),
        target: resolve(target),
      });
      let result: SnapshotCheck | null = null;
      worker.once('message', (m: unknown) => {
        result = checkSchema.parse(m);
      });
      worker.once('error', fail);
      worker.once('exit', (code) =>
        result
          ? done(result)
          : fail(new Error(`backup worker stopped (exit code ${code}) before checking the copy`)),
      );
    });
  }
}
