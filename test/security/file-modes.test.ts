/**
 * What the app writes to disk is readable by its own user only, whatever the umask: the database
 * (every contact, the unsubscribe key) and its -wal/-shm, backups, outbox .eml files, and the
 * folders it creates for them. Modes are read back from disk.
 */
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { migrateDb, openDb } from '../../src/db/client.js';
import { importText, tempDir, testConfig } from '../helpers.js';

const mode = (path: string) => statSync(path).mode & 0o777;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(() => {
  process.umask(0o022); // the usual umask, which left everything world-readable
});

describe('file modes', () => {
  it('database, -wal/-shm, backups, outbox messages: 0600, in 0700 folders the app creates', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const config = testConfig({
      DATABASE_PATH: join(dir, 'data', 'coldbatch.db'),
      BACKUP_DIR: join(dir, 'backups'),
      MAIL_OUTBOX_DIR: join(dir, 'outbox'),
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo',
      PUBLIC_URL: 'https://coldbatch.test',
    });
    const app = buildApp(config, { scheduler: false });
    cleanups.push(
      () => app.services.webhooks.stop(),
      () => app.db.$client.close(),
    );
    await importText(app.services, 'email,name\nana@x.com,Ana\n');
    await app.services.campaigns.create(
      { name: 'Intro', subject: 'Hi', body: 'Hello {{name}}', sendAt: 'now' },
      'U1',
    );
    await app.services.sending.runDue();
    const backup = await app.services.backup.run('test');

    const db = join(dir, 'data', 'coldbatch.db');
    expect(mode(join(dir, 'data'))).toBe(0o700);
    expect(mode(db)).toBe(0o600);
    expect(mode(`${db}-wal`)).toBe(0o600);
    expect(mode(`${db}-shm`)).toBe(0o600);
    expect(mode(join(dir, 'backups'))).toBe(0o700);
    expect(mode(backup.file)).toBe(0o600);
    expect(mode(join(dir, 'outbox'))).toBe(0o700);
    const emls = readdirSync(join(dir, 'outbox')).filter((f) => f.endsWith('.eml'));
    expect(emls).toHaveLength(1);
    expect(mode(join(dir, 'outbox', emls[0]!))).toBe(0o600);
  });

  it('an existing world-readable database (and its -wal) is narrowed to 0600 when opened', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    old.close();
    writeFileSync(`${path}-wal`, '');
    chmodSync(path, 0o644);
    chmodSync(`${path}-wal`, 0o644);
    const db = openDb(path);
    cleanups.push(() => db.$client.close());
    migrateDb(db);
    expect(mode(path)).toBe(0o600);
    expect(mode(`${path}-wal`)).toBe(0o600);
    expect(mode(`${path}-shm`)).toBe(0o600);
  });
});
