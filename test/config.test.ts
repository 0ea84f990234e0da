import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { tempDir } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('config', () => {
  it('has working defaults: loopback only without API_TOKEN', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databasePath: './data/coldbatch.db',
      importMaxBytes: 50 * 1024 * 1024,
      apiToken: undefined,
    });
  });

  it('listens on all interfaces once a token is set, and reads sizes with units', () => {
    const c = loadConfig({ API_TOKEN: 'x'.repeat(20), IMPORT_MAX_BYTES: '10MB', PORT: '8080' });
    expect(c).toMatchObject({ host: '0.0.0.0', importMaxBytes: 10 * 1024 * 1024, port: 8080 });
  });

  it('refuses HOST beyond loopback without API_TOKEN (the REST API would be open to the network)', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/HOST=0\.0\.0\.0 .*API_TOKEN is required/);
    expect(() => loadConfig({ HOST: '192.168.1.10' })).toThrow(/API_TOKEN is required/);
    expect(loadConfig({ HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: 'localhost' }).host).toBe('localhost');
    expect(loadConfig({ HOST: '0.0.0.0', API_TOKEN: 'x'.repeat(20) }).host).toBe('0.0.0.0');
  });

  it.each([
    ['1MiB', 1024 ** 2],
    ['1mib', 1024 ** 2],
    ['512KiB', 512 * 1024],
    ['2GiB', 2 * 1024 ** 3],
    ['1.5MB', 1.5 * 1024 ** 2],
    ['512kb', 512 * 1024],
    ['10M', 10 * 1024 ** 2],
    ['100 B', 100],
    ['52428800', 52428800],
  ])('IMPORT_MAX_BYTES=%s is %d bytes (binary units, any case)', (value, expected) => {
    expect(loadConfig({ IMPORT_MAX_BYTES: value }).importMaxBytes).toBe(expected);
  });

  it.each(['1TiB', '1 MBs', 'MiB', '-1MiB', '0'])(
    'IMPORT_MAX_BYTES=%s is refused naming the variable',
    (v) => {
      expect(() => loadConfig({ IMPORT_MAX_BYTES: v })).toThrow(
        /^Invalid configuration: IMPORT_MAX_BYTES .*(KiB|positive|greater|>)/,
      );
    },
  );

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['IMPORT_MAX_BYTES', 'lots'],
    ['LOG_LEVEL', 'chatty'],
    ['API_TOKEN', 'short'],
  ])('a bad %s (%s) is refused with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });

  it('never echoes the API token in the error', () => {
    expect(() => loadConfig({ API_TOKEN: 'secret' })).toThrow(/^(?!.*secret).*$/);
  });

  it('npm start on a database of the old schema stops with one line saying to run npm run migrate', () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'old.db');
      const old = new Database(path);
      old.exec(
        'CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT UNIQUE NOT NULL, name TEXT)',
      );
      old.close();
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_PATH: path, PORT: '0', LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/old contacts schema: run npm run migrate first/);
    } finally {
      cleanup();
    }
  });

  it('npm start with a bad value stops with one line naming the variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PORT .*"not-a-port"/);
  });
});
