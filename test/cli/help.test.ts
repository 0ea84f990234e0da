import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { runCli } from './run-cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('npm run migrate / backup --help', () => {
  it.each(['migrate', 'backup'])(
    '%s --help prints the usage, exits 0 and touches nothing',
    async (script) => {
      const { dir, cleanup } = tempDir();
      cleanups.push(cleanup);
      const databasePath = join(dir, 'data', 'cli.db');
      const r = await runCli(script, ['--help'], { DATABASE_PATH: databasePath, BACKUP_DIR: join(dir, 'b') });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: npm run ${script}`));
      expect(existsSync(databasePath)).toBe(false);
      expect(existsSync(join(dir, 'b'))).toBe(false);
    },
  );

  it.each(['migrate', 'backup'])('%s with an unknown option exits 2 with the usage', async (script) => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const r = await runCli(script, ['--frobnicate'], { DATABASE_PATH: join(dir, 'cli.db') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Usage: npm run ${script}`);
  });
});
