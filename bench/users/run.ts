/**
 * `npm run bench [-- --rows N --runs N --only a,b --send N --poll-seconds S --small N --inbox N --inbox-sends N]`:
 * performance as users meet it (issue 14). The server runs as `npm start` runs it and the CLI as
 * `npm run import`; the bench talks to them only through the REST API, their files and their
 * exit, and reads RSS and event-loop blocks from a probe preloaded into their process
 * (probe.mjs). Each case runs --runs times (default 3) beside its raw baseline in the same run
 * and is reported as median (min–max); ratios are decided unrounded. Imports nothing from src/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bigCsv, copyDb, dbCounts, templateDb } from './data.js';
import { freshDir, usersDataDir } from './dirs.js';
import {
  cliImport,
  cliStartMs,
  dropDb,
  httpImport,
  rawBaseline,
  smallFiles,
  smallImports,
} from './imports.js';
import { runInboxCase } from './inbox.js';
import { nodemailerBaseline, startSink } from './mail.js';
import { type BenchPg, startBenchPg } from './postgres.js';
import { readProbe, type Server, startServer } from './procs.js';
import { addSendBatch, pollDuringSend, sendCampaign } from './sends.js';
import { fakeSlack, slackAcksDuringImport, slackEnv } from './slack.js';
import { type CaseResult, percentile, reportLine, spread } from './stats.js';

const caseNames = [
  'import-http',
  'import-cli',
  'small-import',
  'poll-during-send',
  'send',
  'slack-ack',
  'inbox',
  'import-pg',
  'send-pg',
];
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    send: { type: 'string', default: '20000' },
    'poll-seconds': { type: 'string', default: '40' },
    small: { type: 'string', default: '12' },
    inbox: { type: 'string', default: '10000' },
    'inbox-sends': { type: 'string', default: '2000' },
  },
});
const rows = Number(values.rows);
const runs = Number(values.runs);
const sendN = Number(values.send);
const pollSeconds = Number(values['poll-seconds']);
const smallCount = Number(values.small);
const inboxN = Number(values.inbox);
const inboxSends = Number(values['inbox-sends']);
const only = values.only?.split(',').map((s) => s.trim());
for (const name of only ?? []) if (!caseNames.includes(name)) throw new Error(`unknown case ${name}`);
const want = (name: string) => !only || only.includes(name);

/** The server's pool (SMTP_MAX_CONNECTIONS, default 5) and its engine's window (twice the pool). */
const poolSize = 5;
const window = poolSize * 2;

const machine = () => ({
  cores: cpus().length,
  cpu: cpus()[0]?.model.trim() ?? '?',
  ramGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
});

/** Per-run samples of each figure, by name. */
const samples = new Map<string, number[]>();
const add = (key: string, v: number): void => {
  samples.set(key, [...(samples.get(key) ?? []), v]);
};
const get = (key: string) => spread(samples.get(key) ?? []);
const has = (key: string) => (samples.get(key)?.length ?? 0) > 0;
const errors: string[] = [];

/** The `ms` of every 'claimed' debug line (the send engine's claims) in the servers' logs. */
function claimTimes(servers: Server[]): number[] {
  const out: number[] = [];
  for (const s of servers) {
    for (const line of readFileSync(s.logFile, 'utf8').split('\n')) {
      if (!line.includes('"claimed"')) continue;
      try {
        const l = JSON.parse(line) as { msg?: string; ms?: number };
        if (l.msg === 'claimed' && typeof l.ms === 'number') out.push(l.ms);
      } catch {}
    }
  }
  return out;
}
const info: Record<string, Record<string, number | string>> = {};
/** The kind of each run's longest GC pause (minor, major, …), by case. */
const gcKinds: Record<'import-http' | 'import-pg', string[]> = { 'import-http': [], 'import-pg': [] };

async function main() {
  const atStart = machine();
  console.log(
    `coldbatch bench (as users meet it): ${rows.toLocaleString('en-US')} rows · ${runs} runs · ${atStart.cores} cores (${atStart.cpu}) · ${atStart.ramGiB} GiB · Node ${atStart.node} · load ${atStart.loadavg.join(' ')}`,
  );
  const cache = usersDataDir;
  const dir = freshDir('run');
  const template = await templateDb(cache, rows);
  // The big CSV only for the cases that import it (the inbox case does not).
  const needsCsv = ['import-http', 'import-cli', 'slack-ack', 'import-pg'].some(want);
  const csv = needsCsv ? await bigCsv(cache, rows) : '(not needed)';
  const counts = dbCounts(template);
  console.error(`data: ${counts.contacts} contacts, ${counts.suppressions} suppressions; csv ${csv}`);
  const sink = await startSink();
  const slackApi = want('slack-ack') ? await fakeSlack() : undefined;
  // What every server and CLI process gets, over the environment (any .env in the package root is
  // read too, and loses to these). Slack off unless the case turns it on.
  const env: Record<string, string> = {
    MAIL_FROM: 'Sales <sales@bench.example.com>',
    MAIL_POSTAL_ADDRESS: 'Bench St 1, 01000 Sao Paulo',
    PUBLIC_URL: 'https://bench.example.com',
    SMTP_URL: sink.url,
    IMPORT_MAX_BYTES: '4GB', // a 1M-row realistic file is ~100 MB, over the 50 MB default
    VALIDATE_ON_IMPORT: 'false', // DNS lookups (no network here) are not what this measures
    BACKUP_CRON: 'off',
    BACKUP_DIR: join(dir, 'backups'),
    MAIL_OUTBOX_DIR: join(dir, 'outbox'),
    SLACK_BOT_TOKEN: '',
    SLACK_APP_TOKEN: '',
    SLACK_SIGNING_SECRET: '',
    WEBHOOK_URLS: '',
  };
  // Postgres: the same seeded data (and the send case's batch) moved in with db:copy, once.
  let pgServer: BenchPg | undefined;
  if (want('import-pg') || want('send-pg')) {
    const source = copyDb(template, join(dir, 'pg-source.db'));
    if (want('send-pg')) addSendBatch(source, sendN);
    console.error('postgres: db:copy of the seeded database …');
    pgServer = await startBenchPg(source, env);
    dropDb(source);
    add('pgCopySeconds', pgServer.copyMs / 1000);
  }
  const benchPg = pgServer;
  const step = async (name: string, run: number, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      const msg = `${name} run ${run}: ${e instanceof Error ? e.message : String(e)}`;
      errors.push(msg);
      console.error(`ERROR ${msg}`);
    }
  };

  if (want('import-cli')) add('cliStartMs', await cliStartMs(env));
  for (let run = 1; run <= runs; run++) {
    console.error(`run ${run}/${runs} · load ${loadavg()[0]?.toFixed(2)}`);
    if (want('import-http') || want('import-cli')) {
      await step('raw baseline', run, async () => add('raw', await rawBaseline(template, csv, dir, rows)));
    }
    if (want('import-http') || want('small-import')) {
      await step('import-http', run, async () => {
        const db = copyDb(template, join(dir, 'http.db'));
        const server = await startServer({ db, dir, name: `http-${run}`, env });
        try {
          add('startMs', server.startMs);
          await new Promise((r) => setTimeout(r, 300));
          add('idleRss', readProbe(server.probeOut, Date.now()).rssBeforeMb);
          if (want('small-import')) {
            const files = await smallFiles(dir, run, smallCount, rows);
            const times = await smallImports(server, files);
            add('smallMedian', percentile(times, 50));
            for (const t of times) add('smallAll', t);
          }
          if (want('import-http')) {
            const h = await httpImport(server, csv, rows, `http-${run}`);
            add('http', h.rate);
            add('httpSeconds', h.ms / 1000);
            add('httpRss', h.probe.peakRssMb);
            add('httpRssBefore', h.probe.rssBeforeMb);
            add('httpBlock', h.probe.maxBlockMs);
            add('httpLag', h.probe.maxLagMs);
            add('httpGc', h.probe.maxGcMs);
            add('httpGcTotal', h.probe.gcMs);
            gcKinds['import-http'].push(h.probe.maxGcKind);
            const raw = samples.get('raw')?.[run - 1];
            if (raw) add('httpRatio', h.rate / raw);
            const counts = Object.entries(h.report).filter(([, v]) => typeof v === 'number');
            info['import-http'] = { ...Object.fromEntries(counts), probePids: h.probe.pids.join(' ') };
          }
        } finally {
          await server.stop();
          dropDb(db);
        }
      });
    }
    if (want('import-cli')) {
      await step('import-cli', run, async () => {
        const db = copyDb(template, join(dir, 'cli.db'));
        const c = await cliImport(db, csv, rows, env, join(dir, `cli-${run}.probe.jsonl`), `cli-${run}`);
        dropDb(db);
        add('cli', c.rate);
        add('cliSeconds', c.ms / 1000);
        add('cliRss', c.probe.peakRssMb);
        // Without the start of npm + tsx (timed once with --help): the engine's own pace.
        const net = rows / ((c.ms - get('cliStartMs').median) / 1000);
        add('cliNet', net);
        const http = samples.get('http')?.[run - 1];
        if (http) {
          add('httpCliRatio', http / c.rate);
          add('httpCliNetRatio', http / net);
        }
        info['import-cli'] = { imported: c.imported, probePids: c.probe.pids.join(' ') };
      });
    }
    if (want('send')) {
      await step('send', run, async () => {
        await nodemailerBaseline(sink, 1000, poolSize, window); // warm the sink (and its JIT)
        const base = await nodemailerBaseline(sink, sendN, poolSize, window);
        const db = copyDb(template, join(dir, 'send.db'));
        addSendBatch(db, sendN);
        const server = await startServer({ db, dir, name: `send-${run}`, env });
        try {
          const s = await sendCampaign(server, sink, sendN);
          if (s.sent !== sendN || s.received !== sendN)
            throw new Error(`sent ${s.sent}, sink received ${s.received}, expected ${sendN}`);
          add('sendBase', base.rate);
          add('send', s.rate);
          add('sendRatio', s.rate / base.rate);
          add('sendWall', s.wallRate);
          add('sendCreateMs', s.createMs);
          add('sendRss', s.probe.peakRssMb);
          add('sendBlock', s.probe.maxBlockMs);
          add('sendCpuUs', (s.probe.cpuMs * 1000) / sendN);
          add('sendMainUs', (s.probe.mainMs * 1000) / sendN);
          add('sendBaseCpuUs', base.cpuUs);
        } finally {
          await server.stop();
          dropDb(db);
        }
      });
    }
    if (want('poll-during-send')) {
      await step('poll-during-send', run, async () => {
        const db = copyDb(template, join(dir, 'poll.db'));
        const server = await startServer({ db, dir, name: `poll-${run}`, env });
        try {
          const p = await pollDuringSend(server, sink, pollSeconds);
          add('pollCampaignP99', percentile(p.campaignMs, 99));
          add('pollHealthP99', percentile(p.healthMs, 99));
          add('pollHealthMedian', percentile(p.healthMs, 50));
          add('pollCreateMs', p.createMs);
          add('pollActivateMs', p.activateMs);
          add('pollBlock', p.probe.maxBlockMs);
          add('pollSent', p.sent);
          info['poll-during-send'] = { campaignPolls: p.campaignMs.length, healthPolls: p.healthMs.length };
        } finally {
          await server.stop();
          dropDb(db);
        }
      });
    }
    if (want('slack-ack') && slackApi) {
      await step('slack-ack', run, async () => {
        const db = copyDb(template, join(dir, 'slack.db'));
        const server = await startServer({
          db,
          dir,
          name: `slack-${run}`,
          env: { ...env, ...slackEnv(slackApi.url) },
        });
        try {
          const times = await slackAcksDuringImport(server, slackApi.url, csv);
          add('slackP99', percentile(times, 99));
          add('slackMedian', percentile(times, 50));
          add('slackRequests', times.length);
        } finally {
          await server.stop();
          dropDb(db);
        }
      });
    }
    if (want('import-pg') && benchPg) {
      await step('import-pg', run, async () => {
        const db = await benchPg.copy('bench_import');
        const server = await startServer({ db, dir, name: `pg-http-${run}`, env });
        try {
          const h = await httpImport(server, csv, rows, `pg-http-${run}`);
          add('pgHttp', h.rate);
          add('pgHttpSeconds', h.ms / 1000);
          add('pgHttpRss', h.probe.peakRssMb);
          add('pgHttpBlock', h.probe.maxBlockMs);
          add('pgHttpGc', h.probe.maxGcMs);
          gcKinds['import-pg'].push(h.probe.maxGcKind);
          const sqlite = samples.get('http')?.[run - 1];
          if (sqlite) add('pgHttpSqliteRatio', h.rate / sqlite);
          const counts = Object.entries(h.report).filter(([, v]) => typeof v === 'number');
          info['import-pg'] = Object.fromEntries(counts);
        } finally {
          await server.stop();
          await benchPg.drop('bench_import');
        }
      });
    }
    if (want('send-pg') && benchPg) {
      for (const instances of [1, 3]) {
        await step(`send-pg ×${instances}`, run, async () => {
          const db = await benchPg.copy('bench_send');
          const servers: Server[] = [];
          try {
            // LOG_LEVEL=debug: the engine's 'claimed' lines carry each claim's ms.
            for (let k = 0; k < instances; k++)
              servers.push(
                await startServer({
                  db,
                  dir,
                  name: `pg-send${instances}-${run}-${k}`,
                  env: { ...env, LOG_LEVEL: 'debug' },
                }),
              );
            const s = await sendCampaign(servers[0]!, sink, sendN);
            if (s.sent !== sendN || s.received !== sendN || s.distinct !== sendN)
              throw new Error(
                `sent ${s.sent}, sink received ${s.received} for ${s.distinct} recipients, expected ${sendN}`,
              );
            add(`pgSend${instances}`, s.rate);
            add(`pgSend${instances}Wall`, s.wallRate);
            const sqlite = samples.get('send')?.[run - 1];
            if (sqlite) add(`pgSend${instances}SqliteRatio`, s.rate / sqlite);
            const one = samples.get('pgSend1')?.[run - 1];
            if (instances === 3 && one) add('pgSend3Over1', s.rate / one);
            const claims = claimTimes(servers);
            add(`pgClaimP99x${instances}`, percentile(claims, 99));
            add(`pgClaimMedianx${instances}`, percentile(claims, 50));
            add(`pgClaims${instances}`, claims.length);
          } finally {
            for (const server of servers) await server.stop();
            await benchPg.drop('bench_send');
          }
        });
      }
    }
    if (want('inbox')) {
      await step('inbox', run, async () => {
        const r = await runInboxCase({ template, run, env, sink, messages: inboxN, sends: inboxSends });
        add('inbox', r.rate);
        add('inboxBlock', r.probe.maxBlockMs);
        add('inboxAppendMs', r.appendMs);
        add('inboxRss', r.probe.peakRssMb);
        add('inboxCpuUs', (r.probe.cpuMs * 1000) / inboxN);
        add('inboxInProcess', r.inProcess.rate);
        add('inboxInProcessBlock', r.inProcess.maxBlockMs);
        add('inboxPerMessage', r.perMessage.rate);
        add('inboxPerMessageBlock', r.perMessage.maxBlockMs);
        add('inboxSlowestMs', r.perMessage.slowestMs);
        info.inbox = {
          ...Object.fromEntries(Object.entries(r.mix).map(([k, v]) => [`built ${k}`, v])),
          ...Object.fromEntries(Object.entries(r.rows.kinds).map(([k, v]) => [`kind ${k}`, v])),
          matched: r.rows.matched ?? 0,
          'slowest message': `${r.perMessage.slowest} ${Math.round(r.perMessage.slowestMs)} ms`,
          sends: inboxSends,
        };
      });
    }
  }
  await sink.close();
  await slackApi?.close();
  await benchPg?.stop();

  const results: CaseResult[] = [];
  if (want('import-http') && has('http')) {
    const ratio = get('httpRatio');
    const rss = get('httpRss');
    const block = get('httpBlock');
    results.push({
      case: 'import-http',
      figure: get('http'),
      unit: 'rows/s',
      baseline: get('raw'),
      ratio,
      extra: {
        s: get('httpSeconds'),
        'peak RSS MB': rss,
        'idle RSS MB': get('idleRss'),
        'RSS before MB': get('httpRssBefore'),
        'longest block ms': block,
        'setInterval lag ms': get('httpLag'),
        'longest GC pause ms': get('httpGc'),
        'GC total ms': get('httpGcTotal'),
      },
      info: { ...info['import-http'], 'longest GC pause kinds': gcKinds['import-http'].join(' ') },
      target: '≥ 0.6 × raw, server peak RSS < 250 MB, longest block < 50 ms',
      met: ratio.median >= 0.6 && rss.median < 250 && block.median < 50,
    });
  }
  if (want('import-cli') && has('cli')) {
    const ratio = has('httpCliRatio') ? get('httpCliRatio') : undefined;
    results.push({
      case: 'import-cli',
      figure: get('cli'),
      unit: 'rows/s',
      ...(ratio ? { ratio } : {}),
      extra: {
        s: get('cliSeconds'),
        'peak RSS MB': get('cliRss'),
        'CLI start ms': get('cliStartMs'),
        'rows/s without the start': get('cliNet'),
        ...(has('httpCliNetRatio') ? { 'ratio to that': get('httpCliNetRatio') } : {}),
      },
      info: info['import-cli'],
      target: 'ratio = HTTP / CLI ≥ 0.9 (the old bench’s HTTP target); CLI peak RSS < 250 MB',
      met: ratio ? ratio.median >= 0.9 && get('cliRss').median < 250 : null,
    });
  }
  if (want('small-import') && has('smallMedian')) {
    const m = get('smallMedian');
    const all = get('smallAll');
    results.push({
      case: 'small-import',
      figure: m,
      unit: 'ms',
      extra: {
        'all imports: min ms': spread([all.min]),
        'max ms': spread([all.max]),
        'server start ms': get('startMs'),
      },
      info: { importsPerRun: smallCount, rowsPerFile: 1300 },
      target: `< 50 ms (median of ${smallCount} per run, 1,300 rows via HTTP)`,
      met: m.median < 50,
    });
  }
  if (want('poll-during-send') && has('pollCampaignP99')) {
    const c = get('pollCampaignP99');
    const h = get('pollHealthP99');
    results.push({
      case: 'poll-during-send',
      figure: c,
      unit: 'ms',
      extra: {
        'healthz p99 ms': h,
        'healthz median ms': get('pollHealthMedian'),
        'POST /campaigns ms': get('pollCreateMs'),
        'activate ms': get('pollActivateMs'),
        'longest block ms': get('pollBlock'),
        'sent meanwhile': get('pollSent'),
      },
      info: { ...info['poll-during-send'], seconds: pollSeconds },
      target: 'GET /campaigns/{id} (every 2 s) and /healthz (every 100 ms) p99 < 20 ms',
      met: c.median < 20 && h.median < 20,
    });
  }
  if (want('send') && has('send')) {
    const ratio = get('sendRatio');
    results.push({
      case: `send (${sendN})`,
      figure: get('send'),
      unit: 'messages/s',
      baseline: get('sendBase'),
      ratio,
      extra: {
        'from POST msg/s': get('sendWall'),
        'POST /campaigns ms': get('sendCreateMs'),
        'peak RSS MB': get('sendRss'),
        'longest block ms': get('sendBlock'),
        'server CPU µs/msg': get('sendCpuUs'),
        'main thread µs/msg': get('sendMainUs'),
        'nodemailer CPU µs/msg': get('sendBaseCpuUs'),
      },
      info: { pool: poolSize, window },
      target: `≥ 0.9 × nodemailer, pool ${poolSize}, ${window} in flight, warmed sink`,
      met: ratio.median >= 0.9,
    });
  }
  if (want('slack-ack') && has('slackP99')) {
    const p = get('slackP99');
    results.push({
      case: 'slack-ack',
      figure: p,
      unit: 'ms',
      extra: { 'median ms': get('slackMedian'), requests: get('slackRequests') },
      target: 'p99 < 100 ms during the big import',
      met: p.median < 100,
    });
  }
  if (want('inbox') && has('inbox')) {
    const rate = get('inbox');
    const block = get('inboxBlock');
    results.push({
      case: `inbox (${inboxN})`,
      figure: rate,
      unit: 'messages/s',
      extra: {
        'longest block ms': block,
        'append ms': get('inboxAppendMs'),
        'peak RSS MB': get('inboxRss'),
        'server CPU µs/msg': get('inboxCpuUs'),
      },
      info: info.inbox,
      target:
        '≥ 500 messages/s from the first append to the last processed row (IMAP, hoodiecrow), longest block ≤ 100 ms',
      met: rate.median >= 500 && block.max <= 100,
    });
    results.push({
      case: 'inbox in-process',
      figure: get('inboxInProcess'),
      unit: 'messages/s',
      extra: {
        'longest block ms (chunks of 50, as the reader)': get('inboxInProcessBlock'),
        'msg/s, loop turning per message': get('inboxPerMessage'),
        'its longest block ms': get('inboxPerMessageBlock'),
        'slowest message ms': get('inboxSlowestMs'),
      },
      target: '≥ 500 messages/s: services.mailbox.process over the same messages, no IMAP; block ≤ 100 ms',
      met: get('inboxInProcess').median >= 500 && get('inboxInProcessBlock').max <= 100,
    });
  }
  if (want('import-pg') && has('pgHttp')) {
    const rate = get('pgHttp');
    results.push({
      case: 'import-pg',
      figure: rate,
      unit: 'rows/s',
      ...(has('pgHttpSqliteRatio') ? { ratio: get('pgHttpSqliteRatio') } : {}),
      extra: {
        s: get('pgHttpSeconds'),
        'peak RSS MB': get('pgHttpRss'),
        'longest block ms': get('pgHttpBlock'),
        'longest GC pause ms': get('pgHttpGc'),
        'db:copy of the seeded database s': get('pgCopySeconds'),
      },
      info: { ...info['import-pg'], 'longest GC pause kinds': gcKinds['import-pg'].join(' ') },
      target: '≥ 50,000 rows/s: the 1M file via HTTP into Postgres (ratio: to SQLite’s import-http)',
      met: rate.median >= 50_000,
    });
  }
  if (want('send-pg') && has('pgSend1')) {
    const one = get('pgSend1');
    const p99 = get('pgClaimP99x1');
    results.push({
      case: `send-pg ×1 (${sendN})`,
      figure: one,
      unit: 'messages/s',
      ...(has('pgSend1SqliteRatio') ? { ratio: get('pgSend1SqliteRatio') } : {}),
      extra: {
        'from POST msg/s': get('pgSend1Wall'),
        'claim p99 ms': p99,
        'claim median ms': get('pgClaimMedianx1'),
        claims: get('pgClaims1'),
      },
      target:
        'figures: one instance on Postgres (ratio: to SQLite’s send); each claim’s ms from the engine’s log',
      met: null,
    });
  }
  if (want('send-pg') && has('pgSend3')) {
    const three = get('pgSend3');
    const p99 = get('pgClaimP99x3');
    results.push({
      case: `send-pg ×3 (${sendN})`,
      figure: three,
      unit: 'messages/s',
      ...(has('pgSend3Over1') ? { baseline: get('pgSend1'), ratio: get('pgSend3Over1') } : {}),
      extra: {
        'from POST msg/s': get('pgSend3Wall'),
        'claim p99 ms': p99,
        'claim median ms': get('pgClaimMedianx3'),
        claims: get('pgClaims3'),
      },
      target: 'figures: three instances on one Postgres, each recipient once (ratio: to one instance)',
      met: null,
    });
  }
  const atEnd = machine();
  for (const r of results) console.log(reportLine(r));
  for (const e of errors) console.log(`ERROR ${e}`);
  console.log(`load at start ${atStart.loadavg.join(' ')} · at end ${atEnd.loadavg.join(' ')}`);
  const out = join(import.meta.dirname, 'results.json');
  writeFileSync(
    out,
    `${JSON.stringify({ at: new Date().toISOString(), rows, runs, sendN, pollSeconds, machine: { atStart, atEnd }, data: counts, results, errors }, null, 2)}\n`,
  );
  console.log('wrote bench/users/results.json');
  if (errors.length > 0) process.exitCode = 1;
}

await main();
