import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { tempDir } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The message loadConfig throws for env (fails the test when it throws nothing). */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('PUBLIC_URL and real mail', () => {
  const smtp = { SMTP_URL: 'smtp://user:hunter2-secret@smtp.example.com:587' };

  it('refuses SMTP_URL without PUBLIC_URL: the unsubscribe links would point to localhost', () => {
    expect(refusal(smtp)).toBe(
      'Invalid configuration: PUBLIC_URL must be an https URL when SMTP_URL sends real mail: ' +
        'unsubscribe links in every message point to it (got http://localhost:3000).',
    );
  });

  it('refuses an http PUBLIC_URL, and an https one on this machine, for SMTP_URL and SMTP_URLS', () => {
    expect(refusal({ ...smtp, PUBLIC_URL: 'http://mail.example.com' })).toMatch(
      /^Invalid configuration: PUBLIC_URL must be an https URL when SMTP_URL sends real mail: .*\(got http:\/\/mail\.example\.com\)\.$/,
    );
    const urls = { SMTP_URLS: 'smtp://a:pw@smtp.example.com:587,smtp://b:pw@smtp.example.org:587' };
    expect(refusal(urls)).toMatch(/PUBLIC_URL must be an https URL when SMTP_URLS sends real mail/);
    for (const local of ['https://localhost:3000', 'https://127.0.0.1', 'https://[::1]:8443']) {
      expect(refusal({ ...smtp, PUBLIC_URL: local })).toMatch(
        /PUBLIC_URL must be a public https URL \(not this machine\) when SMTP_URL sends real mail/,
      );
    }
    expect(refusal(smtp)).not.toContain('hunter2');
  });

  it('accepts a public https PUBLIC_URL with SMTP, and anything in outbox mode', () => {
    expect(loadConfig({ ...smtp, PUBLIC_URL: 'https://links.example.com/' }).mail.publicUrl).toBe(
      'https://links.example.com',
    );
    expect(loadConfig({}).mail.publicUrl).toBe('http://localhost:3000');
    expect(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:3000' }).mail.publicUrl).toBe('http://127.0.0.1:3000');
  });

  it('npm start with SMTP_URL and no PUBLIC_URL stops with one line naming the variable', () => {
    const { dir, cleanup } = tempDir();
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        env: {
          ...process.env,
          ...smtp,
          PUBLIC_URL: '',
          PORT: '0',
          DATABASE_PATH: join(dir, 'app.db'),
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        'Invalid configuration: PUBLIC_URL must be an https URL when SMTP_URL sends real mail: ' +
          'unsubscribe links in every message point to it (got http://localhost:0).',
      ]);
    } finally {
      cleanup();
    }
  });
});
