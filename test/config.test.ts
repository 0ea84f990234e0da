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

  describe('the inbox (INBOX_URL, INBOX_POLL, SMTP_URLS #inbox=)', () => {
    const error = (env: Record<string, string>) => {
      try {
        loadConfig({ PUBLIC_URL: 'https://coldbatch.test', ...env });
      } catch (e) {
        return String(e);
      }
      throw new Error('no error');
    };

    it('reads the URL: user names percent-encoded, the path as the mailbox, ports by scheme, named without the password', () => {
      const c = loadConfig({
        INBOX_URL: 'imaps://bounces%40example.com:p%40ss%3Aw%2Frd@IMAP.Example.com/INBOX',
      });
      expect(c.inbox).toEqual({
        pollMs: 60_000,
        mailboxes: [
          {
            name: 'imaps://bounces%40example.com@imap.example.com:993/INBOX',
            host: 'imap.example.com',
            port: 993,
            security: 'tls',
            user: 'bounces@example.com',
            pass: 'p@ss:w/rd',
            path: 'INBOX',
          },
        ],
      });
      const [plain] = loadConfig({ INBOX_URL: 'imap://u:pw@127.0.0.1:1143', INBOX_POLL: '5s' }).inbox
        .mailboxes;
      expect(plain).toMatchObject({ name: 'imap://u@127.0.0.1:1143/INBOX', security: 'none', path: 'INBOX' });
      expect(
        loadConfig({ INBOX_URL: 'imap://u:pw@mail.example.com/Bounces' }).inbox.mailboxes[0],
      ).toMatchObject({
        port: 143,
        security: 'starttls', // imap:// beyond this machine must upgrade to TLS
        path: 'Bounces',
      });
      expect(loadConfig({ INBOX_POLL: '5s' }).inbox).toEqual({ mailboxes: [], pollMs: 5000 });
    });

    it.each([
      ['https://u:hunter22@imap.example.com/INBOX', /INBOX_URL must start with imaps:\/\//],
      ['imaps://imap.example.com/INBOX', /INBOX_URL needs a user name and a password/],
      ['imaps://u@imap.example.com/INBOX', /INBOX_URL needs a user name and a password/],
      ['imaps://u:hunter22%zz@imap.example.com/INBOX', /INBOX_URL has a broken %-escape/],
      ['imaps://u:hunter22@imap.example.com:99999/INBOX', /INBOX_URL must be an IMAP URL like imaps:\/\//],
      ['not a url hunter22', /INBOX_URL must be an IMAP URL/],
      ['imaps://u:hunter22@imap.example.com/INBOX?x=1', /INBOX_URL takes no \?query/],
    ])('INBOX_URL=%s is refused with a clear message that never shows the password', (url, message) => {
      const msg = error({ INBOX_URL: url });
      expect(msg).toMatch(message);
      expect(msg).not.toContain('hunter22');
    });

    it('refuses an INBOX_POLL under a second', () => {
      expect(error({ INBOX_POLL: '100ms' })).toMatch(/INBOX_POLL must be at least 1s/);
    });

    it("reads each identity's #inbox= and watches each distinct mailbox once", () => {
      const inbox = (user: string, pw = 'pw') =>
        encodeURIComponent(
          `imaps://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@imap.example.com/INBOX`,
        );
      const c = loadConfig({
        PUBLIC_URL: 'https://coldbatch.test',
        INBOX_URL: 'imaps://bounces%40example.com:pw@imap.example.com/INBOX',
        SMTP_URLS: [
          `smtp://a:pw@smtp.example.com:587#cap=500&inbox=${inbox('a@example.com', 'p&w+1')}`,
          `smtp://b:pw@smtp.example.com:587#inbox=${inbox('bounces@example.com')}`,
          'smtp://c:pw@smtp.example.com:587#cap=10',
        ].join(','),
      });
      expect(c.inbox.mailboxes.map((m) => m.name)).toEqual([
        'imaps://bounces%40example.com@imap.example.com:993/INBOX',
        'imaps://a%40example.com@imap.example.com:993/INBOX',
      ]);
      expect(c.inbox.mailboxes[1]).toMatchObject({ user: 'a@example.com', pass: 'p&w+1' });
      expect(c.mail.accounts.map((a) => [a.key, a.cap, a.inbox?.name ?? null])).toEqual([
        ['smtp.example.com:587:a', 500, 'imaps://a%40example.com@imap.example.com:993/INBOX'],
        ['smtp.example.com:587:b', null, 'imaps://bounces%40example.com@imap.example.com:993/INBOX'],
        ['smtp.example.com:587:c', 10, null],
      ]);
    });

    it('refuses a wrong #inbox= naming the entry, and one mailbox with two passwords, never showing them', () => {
      const bad = error({
        SMTP_URLS: `smtp://a:pw@h:587#inbox=${encodeURIComponent('pop3://u:hunter22@h')}`,
      });
      expect(bad).toMatch(/SMTP_URLS entry 1: inbox must start with imaps:\/\//);
      expect(bad).not.toContain('hunter22');
      const twice = error({
        INBOX_URL: 'imaps://u:hunter22@imap.example.com/INBOX',
        SMTP_URLS: `smtp://a:pw@h:587,smtp://b:pw@h:587#inbox=${encodeURIComponent('imaps://u:hunter33@imap.example.com/INBOX')}`,
      });
      expect(twice).toMatch(
        /INBOX_URL and SMTP_URLS entry 2 name the same mailbox .* with different passwords/,
      );
      expect(twice).not.toMatch(/hunter2|hunter3/);
    });
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
