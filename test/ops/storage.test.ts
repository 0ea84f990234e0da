/**
 * Disk full and a read-only database: a clear refusal, nothing half-written. Simulated with a
 * small tmpfs (remounted read-only for the second case) where the machine allows mounting;
 * otherwise, for a non-root user, a read-only file. Skipped where neither is possible.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { importText, testConfig, uploadCsv } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function tryMount(sizeMb: number): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'coldbatch-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

const canMount = (() => {
  const dir = tryMount(1);
  if (!dir) return false;
  execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return true;
})();
const isRoot = process.getuid?.() === 0;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function mounted(sizeMb: number): string {
  const dir = tryMount(sizeMb);
  if (!dir) throw new Error('mount failed');
  cleanups.push(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function csv(rows: number, prefix: string): string {
  const lines = ['email,name,company,position'];
  for (let i = 0; i < rows; i++)
    lines.push(`${prefix}${i}@example${i % 97}.com,Person number ${i},Company ${i % 500},Position ${i % 31}`);
  return `${lines.join('\n')}\n`;
}

describe('storage faults', () => {
  it.skipIf(!canMount)(
    'disk full during an import: 507 saying what to do; the unfinished batch is never active and goes once there is room',
    async () => {
      const dir = mounted(4);
      const config = testConfig({ DATABASE_PATH: join(dir, 'app.db') });
      let app = buildApp(config, { scheduler: false });
      cleanups.push(() => app.stop());
      const { port } = await app.start();
      const first = await importText(app.services, csv(200, 'keep'), { fileName: 'keep.csv' });

      const res = await uploadCsv(`http://127.0.0.1:${port}`, csv(80_000, 'big'), {
        fileName: 'big.csv',
      });
      expect(res.status).toBe(507);
      expect(res.body).toMatchObject({ error: { code: 'storage_full' } });
      expect(JSON.stringify(res.body)).toContain('disk is full');
      // The server is still up and answers.
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBeLessThan(600);

      // A restart on the still-full disk works: the unfinished batch cannot be removed yet, but it
      // stays `importing` (never active, never mailed); the previous batch is still the active one.
      await app.stop();
      app = buildApp(config, { scheduler: false });
      const statuses = () =>
        app.db.$client.prepare(`SELECT status FROM batches ORDER BY status`).pluck().all();
      expect(statuses().filter((s) => s !== 'importing')).toEqual(['active']);
      expect((await app.services.batches.getActive())?.id).toBe(first.batch.id);
      expect(await app.services.audience.count()).toBe(200);

      // Once there is room again, the next start removes it: exactly the first import remains.
      await app.stop();
      execFileSync('mount', ['-o', 'remount,size=64m', dir]);
      app = buildApp(config, { scheduler: false });
      await app.start(); // the start-up sweep runs before serving
      const db = app.db.$client;
      expect(db.prepare(`SELECT id, status FROM batches`).all()).toEqual([
        { id: first.batch.id, status: 'active' },
      ]);
      expect(db.prepare('SELECT count(*) FROM contacts').pluck().get()).toBe(200);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    },
  );

  it.skipIf(!canMount && isRoot)(
    'a read-only database: writes are refused with what to do, reads and the data stay as they were',
    async () => {
      let dir: string;
      if (canMount) dir = mounted(16);
      else {
        dir = mkdtempSync(join(tmpdir(), 'coldbatch-ro-'));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      }
      const path = join(dir, 'app.db');
      const config = testConfig({ DATABASE_PATH: path });
      const setup = buildApp(config, { scheduler: false });
      const first = await importText(setup.services, csv(50, 'keep'), { fileName: 'keep.csv' });
      await setup.stop();
      if (canMount) execFileSync('mount', ['-o', 'remount,ro', dir]);
      else {
        chmodSync(path, 0o444);
        chmodSync(dir, 0o555);
        cleanups.push(() => chmodSync(dir, 0o755));
      }

      // Starting on it: one clear line, exit 1.
      const start = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_PATH: path, PORT: '0', LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(start.status).toBe(1);
      expect(start.stderr).toMatch(/coldbatch could not start: .*read-only.*DATABASE_PATH/);

      // An import through the engine (the CLI): refused, nothing written.
      const imported = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/import.ts', join(root, 'test/fixtures/csv/apollo_contacts.csv')],
        { cwd: root, env: { ...process.env, DATABASE_PATH: path, LOG_LEVEL: 'silent' }, encoding: 'utf8' },
      );
      expect(imported.status).toBe(1);
      expect(`${imported.stdout}${imported.stderr}`).toMatch(/read-only/);

      if (canMount) execFileSync('mount', ['-o', 'remount,rw', dir]);
      else chmodSync(dir, 0o755);
      const after = buildApp(config, { scheduler: false });
      cleanups.push(() => after.stop());
      expect((await after.services.batches.getActive())?.id).toBe(first.batch.id);
      expect(after.db.$client.prepare('SELECT count(*) FROM contacts').pluck().get()).toBe(50);
    },
  );
});
