import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Env for `npm start` on a fresh database in a temp dir, logging at info. */
function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_PATH: join(dir, 'app.db'),
    MAIL_OUTBOX_DIR: join(dir, 'outbox'),
    BACKUP_CRON: 'off',
    PORT: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
  delete env.LOG_FORMAT;
  if (extra.LOG_FORMAT) env.LOG_FORMAT = extra.LOG_FORMAT;
  return env;
}

/** Runs a command until its output says the REST API listens, then stops it (SIGTERM); returns the output. */
async function startLog(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  child.stderr.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitFor(() => /REST API listening/.test(out), 30_000);
    child.kill('SIGTERM');
    await exited;
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${String(e)}; output:\n${out}`);
  }
  return out;
}

const node = [process.execPath, '--import', 'tsx', 'src/main.ts'];
const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const prettyLine = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\] INFO.*: REST API listening/m;

describe('log format', () => {
  it('JSON with ISO times when stdout is not a terminal (a pipe, a file, a collector)', async () => {
    const out = await startLog(node[0]!, node.slice(1), appEnv());
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      const entry = JSON.parse(line) as { time: unknown; msg: unknown };
      expect(entry.time).toMatch(isoTime);
    }
    expect(out).toContain('"msg":"stopping"');
  });

  it('LOG_FORMAT=pretty prints readable lines (pino-pretty) without a terminal', async () => {
    const out = await startLog(node[0]!, node.slice(1), appEnv({ LOG_FORMAT: 'pretty' }));
    expect(out).toMatch(prettyLine);
    expect(out).not.toContain('"level":');
    expect(out).not.toContain('\u001b['); // no colours into a pipe
  });

  it.skipIf(process.platform !== 'linux' || !existsSync('/usr/bin/script'))(
    'pretty, in colour, when stdout is a terminal; LOG_FORMAT=json keeps JSON there',
    async () => {
      const cmd = node.map((a) => `'${a}'`).join(' ');
      // util-linux script(1) runs the command on a pseudo-terminal and copies what it prints.
      const tty = await startLog('/usr/bin/script', ['-qfec', cmd, '/dev/null'], appEnv());
      expect(tty).toContain('\u001b['); // colours
      expect(
        tty.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '').replace(/\r/g, ''),
      ).toMatch(prettyLine);
      const json = await startLog(
        '/usr/bin/script',
        ['-qfec', cmd, '/dev/null'],
        appEnv({ LOG_FORMAT: 'json' }),
      );
      expect(json).toMatch(/^\{"level":30,"time":"\d{4}-\d\d-\d\dT[^"]+Z"/m);
    },
  );

  it('a bad LOG_FORMAT stops the start with one line naming it', () => {
    const r = spawnSync(node[0]!, node.slice(1), {
      cwd: root,
      env: appEnv({ LOG_FORMAT: 'fancy' }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Invalid configuration: LOG_FORMAT .*"fancy"/);
  });
});
