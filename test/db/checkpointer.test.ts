import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateDb, openDb } from '../../src/db/client.js';
import { startCheckpointer } from '../../src/db/sqlite/checkpointer.js';
import { createLogger } from '../../src/logger.js';
import { tempDir, waitFor } from '../helpers.js';

describe('checkpoints off the event loop', () => {
  it('the app connection stops checkpointing at commit and a worker copies the WAL into the file', async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, 'c.db');
    const db = openDb(path);
    migrateDb(db);
    db.$client.pragma('wal_checkpoint(TRUNCATE)');
    const before = statSync(path).size;
    const checkpoints = await startCheckpointer(db, path, createLogger('silent'), 20);
    try {
      expect(db.$client.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      // ~4 MB of rows: with checkpoints at commit off, only the worker can bring them into the file.
      const insert = db.$client.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
      const many = db.$client.transaction(() => {
        for (let i = 0; i < 1000; i++) insert.run(`k${i}`, 'x'.repeat(4000));
      });
      many();
      await waitFor(() => statSync(path).size > before + 3_000_000);
    } finally {
      await checkpoints.stop();
    }
    // Stopped: checkpoints at commit are back on (the default, 1000 pages).
    expect(db.$client.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    db.$client.close();
    cleanup();
  });
});
