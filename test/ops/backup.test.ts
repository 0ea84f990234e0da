import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { importText, tempDir, testClock, testConfig, testCore, waitFor } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function csv(rows: number, prefix: string): string {
  const lines = ['email,name,company'];
  for (let i = 0; i < rows; i++) lines.push(`${prefix}${i}@example.com,Person ${i},Company ${i % 50}`);
  return `${lines.join('\n')}\n`;
}

/** What a backup file holds, read with a connection of its own. */
function inspect(file: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const one = (sql: string) => db.prepare(sql).pluck().get();
    return {
      integrity: String(db.pragma('integrity_check', { simple: true })),
      foreignKeyProblems: (db.pragma('foreign_key_check') as unknown[]).length,
      active: one(`SELECT count(*) FROM batches WHERE status = 'active'`) as number,
      contacts: one('SELECT count(*) FROM contacts') as number,
      sent: one(`SELECT count(*) FROM sends WHERE status = 'sent'`) as number,
    };
  } finally {
    db.close();
  }
}

function runCli(script: string, args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('backups', () => {
  it('taken while an import and a campaign run, each opens, passes integrity_check and restores', async () => {
    const sink = await startSink({ delayMs: 5 });
    cleanups.push(() => sink.close());
    const config = testConfig({
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      SMTP_URL: sink.url,
    });
    const app = buildApp(config, { scheduler: false });
    cleanups.push(() => app.stop());
    const s = app.services;
    await importText(s, csv(400, 'lead'), { fileName: 'leads.csv' });
    const campaign = await s.campaigns.create(
      { name: 'c', subject: 'Hi', body: 'Hello', sendAt: 'now' },
      'U1',
    );

    const sending = (async () => {
      for (let i = 0; i < 200 && (await s.campaigns.get(campaign.id)).status !== 'completed'; i++)
        await s.sending.runDue();
    })();
    const importing = importText(s, csv(60_000, 'big'), { fileName: 'big.csv', activate: false });
    const backups = [];
    for (let i = 0; i < 3; i++) backups.push(await s.backup.run('test'));
    await Promise.all([sending, importing]);

    expect(new Set(backups.map((b) => b.file)).size).toBe(3);
    for (const b of backups) {
      const seen = inspect(b.file);
      expect(seen).toMatchObject({ integrity: 'ok', foreignKeyProblems: 0, active: 1 });
      expect(seen.contacts).toBe(b.contacts);
    }
    // Taken during the work: the first backup saw part of it, the end state has all of it.
    expect(inspect(backups[0]!.file).sent).toBeLessThan(400);
    expect(sink.received).toHaveLength(400);

    // Restore the first backup into a fresh path with the CLI, then start the app on it.
    const restoredPath = join(config.dir, 'restored.db');
    const r = runCli('src/cli/restore.ts', [backups[0]!.file], { DATABASE_PATH: restoredPath });
    expect(r.out).toContain('Restored');
    expect(r.code).toBe(0);
    const restored = buildApp(testConfig({ DATABASE_PATH: restoredPath }), { scheduler: false });
    cleanups.push(() => restored.stop());
    await restored.ready;
    const batches = restored.db.$client.prepare('SELECT status FROM batches').pluck().all();
    expect(batches).not.toContain('importing'); // an import half-way in the backup is swept at start
    expect(batches.filter((b) => b === 'active')).toHaveLength(1);
    const c = await restored.services.campaigns.get(campaign.id);
    // A campaign sending at backup time comes back paused: who got it since is not in the backup.
    expect(c.status).toBe('paused');
    expect(r.out).toContain('Paused 1 campaign');
  });

  it('npm run backup works from another process while the app imports', async () => {
    const config = testConfig();
    const app = buildApp(config, { scheduler: false });
    cleanups.push(() => app.stop());
    await importText(app.services, csv(1000, 'first'), { fileName: 'first.csv' });
    const importing = importText(app.services, csv(150_000, 'big'), { fileName: 'big.csv' });
    const r = runCli('src/cli/backup.ts', [], {
      DATABASE_PATH: config.databasePath,
      BACKUP_DIR: config.backup.dir,
    });
    await importing;
    expect(r.out).toMatch(/Backup written: .*coldbatch-\d{8}-\d{6}-\d{3}\.db/);
    expect(r.code).toBe(0);
    const files = readdirSync(config.backup.dir);
    expect(files).toHaveLength(1);
    const seen = inspect(join(config.backup.dir, files[0]!));
    expect(seen).toMatchObject({ integrity: 'ok', foreignKeyProblems: 0, active: 1 });
    expect(seen.contacts).toBeGreaterThanOrEqual(1000);
  });

  it('keeps the newest BACKUP_KEEP backups and removes older ones', async () => {
    const clock = testClock();
    const core = testCore({ clock, env: { BACKUP_KEEP: '2' } });
    cleanups.push(core.cleanup);
    await importText(core.services, 'email\na@x.com\n');
    const made = [];
    for (let i = 0; i < 4; i++) {
      made.push((await core.services.backup.run('test')).file);
      clock.advance(1000);
    }
    expect(core.services.backup.list()).toEqual([made[3], made[2]]);
  });

  it('runs nightly on BACKUP_CRON and refuses a bad expression', async () => {
    expect(() => loadConfig({ BACKUP_CRON: 'every night' })).toThrow(/BACKUP_CRON must be a cron/);
    expect(loadConfig({ BACKUP_CRON: 'off' }).backup.cron).toBeNull();
    const config = testConfig({ BACKUP_CRON: '* * * * * *' });
    const app = buildApp(config);
    cleanups.push(() => app.stop());
    await app.start();
    const files = await waitFor(() => {
      try {
        const f = readdirSync(config.backup.dir).filter((n) => n.endsWith('.db'));
        return f.length > 0 ? f : null;
      } catch {
        return null;
      }
    }, 10_000);
    expect(inspect(join(config.backup.dir, files[0]!)).integrity).toBe('ok');
  });

  it('restore refuses a damaged file and leaves the live database as it was', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const live = join(dir, 'live.db');
    const app = buildApp(testConfig({ DATABASE_PATH: live }), { scheduler: false });
    await importText(app.services, 'email\nkeep@x.com\n');
    await app.stop();
    const bad = join(dir, 'bad.db');
    writeFileSync(bad, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0xab)]));
    const r = runCli('src/cli/restore.ts', [bad], { DATABASE_PATH: live });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Restore failed: .*(malformed|not a database|integrity)/i);
    expect(inspect(live).contacts).toBe(1);
    expect(readdirSync(dir).filter((n) => n.includes('before-restore'))).toEqual([]);
  });
});
