/**
 * The command-line tools with DATABASE_URL (PRODUCT.md §10): they work on Postgres the way the app
 * does (migrated under the advisory lock, joined to the cluster), and backup/restore say to use
 * Postgres's own tools.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/pg/client.js';
import { tempDir } from '../helpers.js';
import { freshPg } from '../pg/pg.js';
import { root, runCli } from './run-cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the CLIs on Postgres', () => {
  it('migrate, import and batches work on DATABASE_URL; no SQLite file is made; backup and restore point to pg_dump', async () => {
    const pg = await freshPg({ migrated: false });
    cleanups.push(pg.drop);
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const sqlitePath = join(dir.dir, 'never.db');
    const env = { DATABASE_URL: pg.url, DATABASE_PATH: sqlitePath, BACKUP_DIR: join(dir.dir, 'backups') };

    const migrated = await runCli('migrate', [], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('Migrations applied (Postgres)');
    expect(migrated.stdout).not.toContain('coldbatch:coldbatch@'); // the URL is shown without its password

    const imported = await runCli('import', [join(root, 'examples/contacts.csv')], env);
    expect(imported.code, imported.stderr).toBe(0);
    const [batch] = await rows<{ id: string; status: string; contact_count: number }>(
      pg.db.$client,
      'SELECT id, status, contact_count FROM batches',
    );
    expect(batch).toMatchObject({ status: 'active', contact_count: 12 });
    const listed = await runCli('batches', ['--json'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(batch!.id);
    expect(existsSync(sqlitePath)).toBe(false);

    for (const [script, args] of [
      ['backup', []],
      ['restore', [join(dir.dir, 'x.db')]],
    ] as const) {
      const r = await runCli(script, [...args], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('pg_dump -Fc "$DATABASE_URL"');
    }
    expect(existsSync(join(dir.dir, 'backups'))).toBe(false);
  });
});
