/**
 * The processes the bench drives, started as a user starts them: `npm start` (the server) and
 * `npm run …` (the CLI), each with the probe preloaded through NODE_OPTIONS, and the probe's
 * lines read back for a time window.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const repoRoot = join(import.meta.dirname, '..', '..');
const probePath = join(import.meta.dirname, 'probe.mjs');

type Ran = { code: number | null; stdout: string; stderr: string; ms: number };

/** Runs `npm <args>` in the package root with `env` over ours; throws unless it exits 0 (`allowFail`: returns). */
export async function npm(args: string[], env: Record<string, string>, allowFail = false): Promise<Ran> {
  const res = await new Promise<Ran>((resolve, reject) => {
    const started = performance.now();
    const child = spawn('npm', args, { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
  if (res.code !== 0 && !allowFail) {
    throw new Error(`npm ${args.join(' ')} exited ${res.code}: ${res.stderr.slice(-2000)}`);
  }
  return res;
}

/** The environment that preloads the probe; it wakes up only in the process running `script`. */
export function probeEnv(out: string, script: string): Record<string, string> {
  rmSync(out, { force: true });
  const prior = process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : '';
  return {
    NODE_OPTIONS: `${prior}--import=${pathToFileURL(probePath).href}`,
    COLDBATCH_PROBE_OUT: out,
    COLDBATCH_PROBE_MATCH: script,
  };
}

export type ProbeWindow = {
  /** Peak RSS (MB) of the probed process in the window. */
  peakRssMb: number;
  /** Longest event-loop block (ms, upper bound within 5 ms) in the window. */
  maxBlockMs: number;
  /** The same from a plain 10 ms setInterval (cross-check). */
  maxLagMs: number;
  /** Longest garbage-collection pause of the main thread's heap in the window (ms), and its kind. */
  maxGcMs: number;
  maxGcKind: string;
  /** All the main thread's garbage collection in the window, ms. */
  gcMs: number;
  /** RSS (MB) in the last line before the window: what the process held when it began. */
  rssBeforeMb: number;
  /** CPU time of the whole process (every thread) in the window, ms. */
  cpuMs: number;
  /** Busy time of its main thread (event-loop utilization) in the window, ms. */
  mainMs: number;
  lines: number;
  pids: number[];
};

type ProbeLine = {
  t: number;
  pid: number;
  rss: number;
  block: number;
  lag: number;
  gc?: number;
  gcKind?: string;
  gcMs?: number;
  cpu?: number;
  main?: number;
};

/** The probe's figures for lines stamped in [from, to] (Date.now() times; a line covers the 250 ms before it). */
export function readProbe(out: string, from = 0, to = Number.POSITIVE_INFINITY): ProbeWindow {
  const all: ProbeLine[] = existsSync(out)
    ? readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ProbeLine)
    : [];
  // A line stamped up to 300 ms after the window still describes the window's end.
  const inside = all.filter((l) => l.t >= from && l.t <= to + 300);
  const before = all.filter((l) => l.t < from).at(-1);
  const mb = (b: number) => Math.round(b / 2 ** 20);
  const longestGc = inside.reduce<ProbeLine | undefined>(
    (a, l) => ((l.gc ?? 0) > (a?.gc ?? 0) ? l : a),
    undefined,
  );
  return {
    peakRssMb: mb(Math.max(0, ...inside.map((l) => l.rss))),
    maxBlockMs: Math.max(0, ...inside.map((l) => l.block)),
    maxLagMs: Math.max(0, ...inside.map((l) => l.lag)),
    maxGcMs: longestGc?.gc ?? 0,
    maxGcKind: longestGc?.gcKind ?? '',
    gcMs: Math.round(inside.reduce((sum, l) => sum + (l.gcMs ?? 0), 0)),
    rssBeforeMb: before ? mb(before.rss) : 0,
    cpuMs: spent(before ?? inside[0], inside.at(-1), 'cpu'),
    mainMs: spent(before ?? inside[0], inside.at(-1), 'main'),
    lines: inside.length,
    pids: [...new Set(all.map((l) => l.pid))],
  };
}

/** How much a cumulative counter of the probe grew between two lines of the same process (0 if unknown). */
function spent(a: ProbeLine | undefined, b: ProbeLine | undefined, key: 'cpu' | 'main'): number {
  if (!a || !b || a.pid !== b.pid) return 0;
  return Math.max(0, (b[key] ?? 0) - (a[key] ?? 0));
}

/** A TCP port free now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const address = s.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  s.close();
  await once(s, 'close');
  return port;
}

export type Server = {
  url: string;
  token: string;
  pid: number;
  probeOut: string;
  /** Its stdout and stderr (JSON log lines). */
  logFile: string;
  /** Date.now() when /healthz first answered. */
  readyAt: number;
  /** ms from spawn to /healthz answering. */
  startMs: number;
  /** fetch with the bearer token. */
  api: (path: string, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
};

/**
 * Starts `npm start` on `db` (a SQLite file, or a postgres:// URL) with the probe in the server
 * process; resolves when /healthz answers.
 */
export async function startServer(opts: {
  db: string;
  dir: string;
  name: string;
  env: Record<string, string>;
}): Promise<Server> {
  const port = await freePort();
  const token = `bench-${Math.random().toString(16).slice(2)}-${Date.now()}`;
  const probeOut = join(opts.dir, `${opts.name}.probe.jsonl`);
  const logFile = join(opts.dir, `${opts.name}.server.log`);
  const log = openSync(logFile, 'w');
  const started = performance.now();
  const child: ChildProcess = spawn('npm', ['start'], {
    cwd: repoRoot,
    detached: true, // its own process group: npm, the tsx launcher and the server stop together
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      ...opts.env,
      ...(opts.db.startsWith('postgres://')
        ? { DATABASE_URL: opts.db }
        : { DATABASE_PATH: opts.db, DATABASE_URL: '' }),
      PORT: String(port),
      HOST: '127.0.0.1',
      API_TOKEN: token,
      LOG_FORMAT: 'json',
      ...probeEnv(probeOut, 'src/main.ts'),
    },
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  const url = `http://127.0.0.1:${port}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
  const pid = child.pid ?? 0;
  const stop = async () => {
    if (exited !== undefined) return;
    const gone = once(child, 'exit');
    process.kill(-pid, 'SIGTERM');
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    }, 30_000);
    await gone;
    clearTimeout(timer);
  };
  for (;;) {
    if (exited !== undefined) {
      throw new Error(
        `npm start exited ${exited} before answering: ${readFileSync(logFile, 'utf8').slice(-3000)}`,
      );
    }
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {}
    if (performance.now() - started > 180_000) {
      await stop();
      throw new Error(`npm start did not answer /healthz within 180 s (log: ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    token,
    pid,
    probeOut,
    logFile,
    readyAt: Date.now(),
    startMs: performance.now() - started,
    api,
    stop,
  };
}
