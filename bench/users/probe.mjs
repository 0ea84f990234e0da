/**
 * Preloaded with NODE_OPTIONS=--import=<this file> into every node process `npm start` or
 * `npm run import` starts (npm itself, the build check, node on the built app; or a tsx launcher
 * and its child), it wakes up only in the process whose script (argv[1]) ends with
 * COLDBATCH_PROBE_MATCH (e.g. `src/main.ts`) or with the file it is built to (`dist/main.js`, what
 * `npm start` runs), and only on its main thread. There it appends one JSON line every 250 ms to
 * COLDBATCH_PROBE_OUT: {t, pid, rss, block, lag}, where `rss` is the peak RSS (bytes, sampled
 * every 20 ms, whole process: worker threads included) and `block` the longest gap between the
 * 5 ms ticks of monitorEventLoopDelay (ms, an upper bound on the longest event-loop block: it
 * overstates by < 5 ms), both since the previous line; `lag` is the same seen by a plain 10 ms
 * setInterval (a cross-check); `cpu` the CPU time of the whole process (user + system, every
 * thread) and `main` the main thread's busy time (event-loop utilization), both in ms since it
 * started; `gc` the longest garbage-collection pause of the main thread's heap and `gcKind` its
 * kind (minor, major, incremental, weakcb), `gcMs` their total, all since the previous line (so a
 * long block can be told apart from a long collection). The bench keeps the lines whose time
 * falls in the window it measures. Plain JS, no dependencies: it must load before tsx does.
 */
import { appendFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const out = process.env.COLDBATCH_PROBE_OUT;
const match = process.env.COLDBATCH_PROBE_MATCH;
const script = (process.argv[1] ?? '').replaceAll('\\', '/');
const built = match?.replace(/^src\/(.+)\.ts$/, 'dist/$1.js');

if (out && match && isMainThread && (script.endsWith(match) || script.endsWith(built))) {
  const resolution = 5;
  const h = monitorEventLoopDelay({ resolution });
  h.enable();
  let rss = process.memoryUsage.rss();
  let lag = 0;
  let last = performance.now();
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  let gc = 0;
  let gcKind = '';
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if (e.duration <= gc) continue;
      gc = e.duration;
      gcKind = kinds[e.detail?.kind] ?? String(e.detail?.kind);
    }
  }).observe({ entryTypes: ['gc'] });
  const rssTimer = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage.rss());
  }, 20);
  const lagTimer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(lag, now - last - 10);
    last = now;
  }, 10);
  const flush = () => {
    rss = Math.max(rss, process.memoryUsage.rss());
    const cpu = process.cpuUsage();
    const line = {
      t: Date.now(),
      pid: process.pid,
      rss,
      block: Math.round((h.max / 1e6) * 10) / 10,
      lag: Math.round(lag * 10) / 10,
      cpu: Math.round((cpu.user + cpu.system) / 1000),
      main: Math.round(performance.eventLoopUtilization().active),
      gc: Math.round(gc * 10) / 10,
      gcKind,
      gcMs: Math.round(gcMs * 10) / 10,
    };
    h.reset();
    rss = process.memoryUsage.rss();
    lag = 0;
    gc = 0;
    gcKind = '';
    gcMs = 0;
    try {
      appendFileSync(out, `${JSON.stringify(line)}\n`);
    } catch {
      // the bench removed its folder: nothing to report to
    }
  };
  const writeTimer = setInterval(flush, 250);
  for (const t of [rssTimer, lagTimer, writeTimer]) t.unref();
  process.on('exit', flush);
}
