import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { importText, tempDir, testConfig, waitFor } from '../../helpers.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function bigCsv(rows: number): string {
  const lines = ['email,name,company'];
  for (let i = 0; i < rows; i++) lines.push(`crash${i}@example.com,Person ${i},Company ${i % 50}`);
  return `${lines.join('\n')}\n`;
}

describe('an import killed with SIGKILL', () => {
  const dirs: (() => void)[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d();
  });

  for (const point of ['at the start', 'half-way', 'just before the commit'] as const) {
    it(`${point}: leaves nothing behind after restart, the previous batch stays active, the file imports again`, async () => {
      const { dir, cleanup } = tempDir();
      dirs.push(cleanup);
      const config = { ...testConfig({ DATABASE_PATH: join(dir, 'crash.db') }) };
      const first = buildApp(config);
      const previous = await importText(first.services, 'email\nkeep1@x.com\nkeep2@x.com\n', {
        fileName: 'keep.csv',
      });
      await first.stop();

      const file = join(dir, 'big.csv');
      writeFileSync(file, bigCsv(300_000));
      // Just before the commit: the CLI reads a named pipe that gets every row but never its end,
      // so the import has written all it can and waits for the end of the file to commit.
      const beforeCommit = point === 'just before the commit';
      const input = beforeCommit ? join(dir, 'big.fifo') : file;
      if (beforeCommit) execFileSync('mkfifo', [input]);
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', input], {
        cwd: root,
        env: {
          ...process.env,
          DATABASE_PATH: config.databasePath,
          LOG_LEVEL: 'silent',
          VALIDATE_ON_IMPORT: 'false',
        },
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const pipe = beforeCommit ? openSync(input, 'w') : null;
      if (pipe !== null) writeSync(pipe, readFileSync(file));
      const reader = new Database(config.databasePath, { readonly: true, fileMustExist: true });
      const wanted = point === 'at the start' ? 0 : point === 'half-way' ? 50_000 : 298_000;
      await waitFor(() => {
        const b = reader.prepare(`SELECT id FROM batches WHERE status = 'importing'`).get() as
          | { id: string }
          | undefined;
        if (!b) return false;
        const n = (
          reader.prepare('SELECT count(*) AS n FROM contacts WHERE batch_id = ?').get(b.id) as { n: number }
        ).n;
        return n >= wanted;
      }, 30_000);
      child.kill('SIGKILL');
      await exited;
      if (pipe !== null) closeSync(pipe);
      reader.close();

      const restarted = buildApp(config);
      try {
        await restarted.start(); // the start-up sweep runs before serving
        const count = (sql: string) => (restarted.db.$client.prepare(sql).get() as { n: number }).n;
        expect(count(`SELECT count(*) AS n FROM batches WHERE status = 'importing'`)).toBe(0);
        expect(count('SELECT count(*) AS n FROM batches')).toBe(1);
        expect(count('SELECT count(*) AS n FROM contacts')).toBe(2);
        expect((await restarted.services.batches.getActive())?.id).toBe(previous.batch.id);
        expect(restarted.db.$client.pragma('integrity_check', { simple: true })).toBe('ok');

        const again = await restarted.services.imports.importFile({
          source: (await import('node:fs')).createReadStream(file),
          fileName: 'big.csv',
          origin: 'cli',
          actor: 'test',
        });
        expect(again.report.imported).toBe(300_000);
        expect((await restarted.services.batches.getActive())?.id).toBe(again.batch.id);
      } finally {
        await restarted.stop();
      }
    });
  }
});
