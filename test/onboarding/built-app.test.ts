import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, uploadCsv, waitFor } from '../helpers.js';
import { commandBody, FakeSlack, signingSecret, slackPost } from '../slack/fake-slack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const buildScript = join(root, 'scripts', 'build-if-stale.mjs');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs the build check in `at` (a copy of the script there: it builds the folder it sits in). */
function buildCheck(at: string, loglevel = 'notice') {
  const r = spawnSync(process.execPath, [join(at, 'scripts', 'build-if-stale.mjs')], {
    cwd: at,
    env: { ...process.env, npm_config_loglevel: loglevel },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the build check before npm start and the command-line tools (scripts/build-if-stale.mjs)', () => {
  it('compiles what changed since the last build, drops what was removed, and keeps dist/ when a file does not parse', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'src'));
    copyFileSync(buildScript, join(dir, 'scripts', 'build-if-stale.mjs'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    copyFileSync(join(root, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    copyFileSync(join(root, 'tsconfig.build.json'), join(dir, 'tsconfig.build.json'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(dir, 'src', 'main.ts'),
      "import { worker } from './worker.js';\nexport const version = 1;\n",
    );
    writeFileSync(join(dir, 'src', 'worker.ts'), 'export const worker = true;\n');
    const built = (file: string) => join(dir, 'dist', file);

    const first = buildCheck(dir);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^Built dist\/: 2 of 2 files compiled in [\d.]+ s\n$/);
    expect(readFileSync(built('main.js'), 'utf8')).toBe(
      "import { worker } from './worker.js';\nexport const version = 1;\n", // ESM, as tsc emits it
    );
    expect(existsSync(built('worker.js'))).toBe(true);

    // Unchanged sources: nothing is compiled (a file dropped into dist/ stays), nothing is printed.
    writeFileSync(built('marker'), '');
    expect(buildCheck(dir)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(built('marker'))).toBe(true);

    // A changed source and a removed one (a worker's entry point, which no compiler follows): a new dist/.
    writeFileSync(join(dir, 'src', 'main.ts'), 'export const version = 2;\n');
    rmSync(join(dir, 'src', 'worker.ts'));
    expect(buildCheck(dir, 'silent')).toEqual({ code: 0, stdout: '', stderr: '' }); // npm run -s: quiet
    expect(readFileSync(built('main.js'), 'utf8')).toContain('version = 2');
    expect(existsSync(built('worker.js'))).toBe(false);
    expect(existsSync(built('marker'))).toBe(false);

    // Only what changed is compiled again; a type error does not stop a start (as under tsx: npm test checks types).
    writeFileSync(join(dir, 'src', 'other.ts'), "export const other: number = 'three';\n");
    const third = buildCheck(dir);
    expect(third.stderr).toMatch(/^Built dist\/: 1 of 2 files compiled in [\d.]+ s\n$/);
    expect(readFileSync(built('other.js'), 'utf8')).toContain("other = 'three'");

    // A file that does not parse: where and why, exit 1, the last build left in place.
    writeFileSync(join(dir, 'src', 'main.ts'), 'export const version = ;\n');
    const failed = buildCheck(dir);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toBe(
      'coldbatch: src/main.ts:1:24: Expression expected.\nthe build failed: dist/ is unchanged\n',
    );
    expect(readFileSync(built('main.js'), 'utf8')).toContain('version = 2');
    expect(buildCheck(dir).code).toBe(1); // still stale: it tries again, never runs the old build silently
  });
});

/**
 * Writes, when the process exits, the CommonJS modules its main thread loaded (Bolt and the canvas
 * are CommonJS). Worker threads run the preload too: they must not write (their exit could come last).
 */
const loadedPreload = `data:text/javascript,${encodeURIComponent(
  "import{createRequire}from'node:module';import{writeFileSync}from'node:fs';import{isMainThread}from'node:worker_threads';" +
    "const r=createRequire('/');if(isMainThread)process.on('exit',()=>writeFileSync(process.env.LOADED_OUT,JSON.stringify(Object.keys(r.cache))));",
)}`;

type Built = { url: string; stop: () => Promise<string[]> };

/** `node dist/main.js` as `npm start` runs it (after the build check), on a fresh database; resolves once started. */
async function startBuilt(env: Record<string, string>): Promise<Built> {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith('SLACK_') || k === 'API_TOKEN') delete base[k];
  const loadedOut = join(dir, 'loaded.json');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', loadedPreload, join(root, 'dist', 'main.js')],
    {
      cwd: dir, // no developer's .env
      env: {
        ...base,
        DATABASE_PATH: join(dir, 'app.db'),
        MAIL_OUTBOX_DIR: join(dir, 'outbox'),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        BACKUP_CRON: 'off',
        VALIDATE_ON_IMPORT: 'false',
        LOADED_OUT: loadedOut,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise((r) => child.once('exit', r));
  cleanups.push(() => child.kill('SIGKILL'));
  // The last line of a start (main.ts handles SIGTERM once started).
  await waitFor(() => /Slack (listening at|disabled)/.test(out), 30_000).catch((e) => {
    throw new Error(`${String(e)}; output:\n${out}`);
  });
  const port = /"port":(\d+)[^\n]*REST API listening/.exec(out)?.[1];
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(readFileSync(loadedOut, 'utf8')) as string[];
    },
  };
}

/** More than the 64 KB the importer reads inline: the rest goes through the parse worker (dist/…/parse-worker.js). */
const bigCsv = `email,name\n${Array.from({ length: 4000 }, (_, i) => `lead${i}@acme.test,Lead ${i}`).join('\n')}\n`;

const loads = (modules: string[], pkg: string) => modules.some((m) => m.includes(`/node_modules/${pkg}/`));

describe('the built app (what npm start runs)', () => {
  beforeAll(() => {
    const r = buildCheck(root);
    if (r.code !== 0) throw new Error(`the build check failed:\n${r.stderr}`);
  }, 300_000);

  it('answers /healthz, imports through its worker thread, and loads neither Bolt nor the chart renderer without Slack', async () => {
    const app = await startBuilt({});
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    const up = await uploadCsv(app.url, bigCsv, { fileName: 'big.csv' });
    expect(up.status).toBe(201);
    expect((up.body as { report: { imported: number } }).report.imported).toBe(4000);
    const batchId = (up.body as { batch: { id: string } }).batch.id;
    const report = await fetch(`${app.url}/contacts/batches/${batchId}/report`); // counted in a worker thread
    expect(report.status).toBe(200);
    const loaded = await app.stop();
    expect(loads(loaded, 'better-sqlite3')).toBe(true); // the list is real
    expect(loads(loaded, '@slack/bolt')).toBe(false);
    expect(loads(loaded, '@napi-rs/canvas')).toBe(false);
    expect(loads(loaded, 'imapflow')).toBe(false); // no INBOX_URL: no IMAP client
    expect(loads(loaded, 'mailparser')).toBe(false);
  });

  it('with Slack on, loads Bolt at start, and the chart renderer only when a report asks for it', async () => {
    const slack = await new FakeSlack().start();
    cleanups.push(() => slack.stop());
    const slackEnv = {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
    };
    const idle = await startBuilt(slackEnv);
    const loadedIdle = await idle.stop();
    expect(loads(loadedIdle, '@slack/bolt')).toBe(true);
    expect(loads(loadedIdle, '@napi-rs/canvas')).toBe(false);

    const app = await startBuilt(slackEnv);
    const up = await uploadCsv(app.url, bigCsv, { fileName: 'big.csv' });
    expect(up.status).toBe(201);
    const batchId = (up.body as { batch: { id: string } }).batch.id;
    const res = await slackPost(app.url, commandBody(`report ${batchId}`, 'U7', slack.responseUrl('r')), {
      type: 'form',
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain(`Building the report of ${batchId}`);
    await waitFor(() => slack.callsTo('files.completeUploadExternal')[0], 30_000);
    expect(slack.uploads[0]?.bytes.includes(Buffer.from('IHDR'))).toBe(true); // the chart, a PNG
    expect(loads(await app.stop(), '@napi-rs/canvas')).toBe(true);
  });
});
