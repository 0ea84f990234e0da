/**
 * `npm run bench:engine [-- --rows N]`: the performance targets of issue 5, each measured on the real
 * code paths beside a raw baseline run in the same process. Prints one line per case and writes
 * bench/results.json. Not a test: CI does not run it.
 */
import { spawn } from 'node:child_process';
import { createReadStream, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/core/index.js';
import { migrateDb, openDb } from '../src/db/client.js';
import { sqliteStores } from '../src/db/sqlite/stores.js';
import { createLogger } from '../src/logger.js';
import { createMailer } from '../src/mail/index.js';
import { benchSend } from './send.js';
import { benchSequenceDue, benchSequenceSend } from './sequence.js';
import { benchSlackAck } from './slack.js';
import { freshDir, measure, percentile, round, seedContacts, writeCsv } from './util.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, only: { type: 'string' } },
});
const rows = Number(values.rows);
const only = values.only?.split(',');
const log = createLogger('silent');
type Result = {
  case: string;
  figure: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  target: string;
  met: boolean;
  extra?: Record<string, number>;
};
const results: Result[] = [];

function report(r: Result) {
  results.push(r);
  const base = r.baseline !== undefined ? ` · baseline ${r.baseline} ${r.unit} · ratio ${r.ratio}` : '';
  const extra = r.extra
    ? ` · ${Object.entries(r.extra)
        .map(([k, v]) => `${k} ${v}`)
        .join(' · ')}`
    : '';
  console.log(
    `${r.met ? 'MET ' : 'MISS'} ${r.case.padEnd(28)} ${r.figure} ${r.unit}${base}${extra} (target ${r.target})`,
  );
}

const want = (name: string) => !only || only.includes(name);

async function baselineImport(csv: string, dir: string): Promise<number> {
  const db = new Database(join(dir, 'baseline.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE c (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT, company TEXT, position TEXT)',
  );
  const ins = db.prepare('INSERT OR IGNORE INTO c (email, name, company, position) VALUES (?, ?, ?, ?)');
  const seed = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++)
      ins.run(`old${i}@example${i % 997}.com`, `Person ${i}`, `Company ${i % 5000}`, `Role ${i % 37}`);
  });
  for (let i = 0; i < rows; i += 50_000) seed(i, Math.min(rows, i + 50_000));
  const flush = db.transaction((batch: string[][]) => {
    for (const r of batch) ins.run(r[0], r[1], r[2], r[3]);
  });
  const { ms } = await measure(async () => {
    let batch: string[][] = [];
    for await (const rec of createReadStream(csv).pipe(parse({ from_line: 2 })) as AsyncIterable<string[]>) {
      batch.push(rec);
      if (batch.length >= 10_000) {
        flush(batch);
        batch = [];
      }
    }
    flush(batch);
  });
  db.close();
  return rows / (ms / 1000);
}

/** Runs bench/import-process.ts on the seeded database and returns what it measured. */
function importInOwnProcess(
  dbPath: string,
  csv: string,
): Promise<{ ms: number; peakRssMb: number; startRssMb: number; maxBlockMs: number; batchId: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'import-process.ts'), dbPath, csv],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`import process exited ${code}`)),
    );
  });
}

async function main() {
  console.log(
    `coldbatch bench: ${rows.toLocaleString('en-US')} rows · ${cpus().length} cores (${cpus()[0]?.model.trim()}) · ${Math.round(totalmem() / 2 ** 30)} GiB · Node ${process.version}`,
  );
  const dir = freshDir('run');
  const csv = join(dir, 'import.csv');
  await writeCsv(csv, rows, 'new');
  const config = loadConfig({
    IMPORT_MAX_BYTES: '4GB',
    LOG_LEVEL: 'silent',
    MAIL_POSTAL_ADDRESS: 'Bench St 1',
    MAIL_FROM: 'b@bench.test',
    VALIDATE_ON_IMPORT: 'false', // DNS lookups are not what this measures
  });

  // A database that already holds `rows` contacts, then the same file through the real engine.
  const db = openDb(join(dir, 'engine.db'));
  migrateDb(db);
  seedContacts(db.$client, rows, 'batch_0000seed_1', 'old');
  const services = createServices(
    { log, clock: { now: () => Date.now() } },
    sqliteStores(db),
    config,
    createMailer({ outboxDir: dir, log }),
  );
  let importRate = 0;
  let bigBatch = '';
  if (want('import')) {
    const baseline = await baselineImport(csv, dir);
    const m = await importInOwnProcess(join(dir, 'engine.db'), csv);
    importRate = rows / (m.ms / 1000);
    bigBatch = m.batchId;
    const exact = importRate / baseline;
    const ratio = round(exact, 2);
    report({
      case: 'import',
      figure: Math.round(importRate),
      unit: 'rows/s',
      baseline: Math.round(baseline),
      ratio,
      target: '≥ 0.6 × baseline, peak RSS < 300 MB, longest block < 100 ms',
      met: exact >= 0.6 && m.peakRssMb < 300 && m.maxBlockMs < 100,
      extra: {
        peakRssMb: m.peakRssMb,
        startRssMb: m.startRssMb,
        maxBlockMs: m.maxBlockMs,
        seconds: round(m.ms / 1000),
      },
    });
  }

  if (want('activate') && bigBatch) {
    seedContacts(db.$client, 10_000, 'batch_00small_1', 'small');
    const timeToggles = async (id: string) => {
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t = performance.now();
        await services.batches.activate(id, 'bench');
        await services.batches.deactivate(id, 'bench');
        times.push((performance.now() - t) / 2);
      }
      return round(percentile(times, 50), 2);
    };
    const small = await timeToggles('batch_00small_1');
    const big = await timeToggles(bigBatch);
    report({
      case: 'activate (median)',
      figure: big,
      unit: 'ms',
      target: '< 5 ms, independent of size',
      met: big < 5 && small < 5,
      extra: { '10k batch ms': small, [`${rows} batch ms`]: big },
    });
    await services.batches.activate(bigBatch, 'bench');
  }

  if (want('audience') && bigBatch) {
    const hashes = db.$client
      .prepare(`SELECT email_hash FROM contacts WHERE batch_id = ? AND id % 20 = 0 LIMIT 50000`)
      .all(bigBatch) as { email_hash: Buffer }[];
    const sup = db.$client.prepare(
      `INSERT OR IGNORE INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, 'manual', 'bench', 0)`,
    );
    db.$client.transaction(() => {
      for (const h of hashes) sup.run(h.email_hash);
    })();
    const t0 = performance.now();
    const bare = db.$client
      .prepare(
        `SELECT count(*) AS n FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE b.status = 'active' AND c.status = 'active'`,
      )
      .get() as { n: number };
    const bareMs = performance.now() - t0;
    const t1 = performance.now();
    const count = await services.audience.count();
    const countMs = performance.now() - t1;
    const rssBefore = process.memoryUsage().rss;
    let n = 0;
    let peak = rssBefore;
    const t2 = performance.now();
    for await (const _ of services.audience.iterate(2000)) {
      if (++n % 100_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const rate = n / ((performance.now() - t2) / 1000);
    report({
      case: 'audience iterate',
      figure: Math.round(rate),
      unit: 'contacts/s',
      target: '≥ 200k contacts/s, memory flat',
      met: rate >= 200_000 && peak - rssBefore < 50 * 2 ** 20,
      extra: {
        count,
        'count ms': round(countMs),
        'bare count ms': round(bareMs),
        bareCount: bare.n,
        'rss growth MB': Math.round((peak - rssBefore) / 2 ** 20),
      },
    });
  }
  db.$client.close();

  if (want('http')) await benchHttp(dir, csv, importRate);
  if (want('send'))
    report(await benchSend(Math.min(20_000, Math.max(1000, Math.floor(rows / 50))), dir, log));
  if (want('slack')) report(await benchSlackAck(dir, csv, rows));
  if (want('sequence-due')) report(await benchSequenceDue(rows, dir, log));
  if (want('sequence-send'))
    report(await benchSequenceSend(Math.min(10_000, Math.max(1000, Math.floor(rows / 100))), dir, log));

  writeFileSync(
    join(import.meta.dirname, 'results.json'),
    `${JSON.stringify({ at: new Date().toISOString(), rows, cores: cpus().length, results }, null, 2)}\n`,
  );
  console.log('wrote bench/results.json');
}

/** The import through POST /contacts/import, and the list routes at scale. */
async function benchHttp(dir: string, csv: string, importRate: number) {
  const config = loadConfig({
    DATABASE_PATH: join(dir, 'http.db'),
    PORT: '0',
    IMPORT_MAX_BYTES: '4GB',
    LOG_LEVEL: 'silent',
    VALIDATE_ON_IMPORT: 'false', // DNS lookups are not what this measures
  });
  const app = buildApp(config, { scheduler: false });
  seedContacts(app.db.$client, rows, 'batch_0000seed_1', 'old');
  const { port } = await app.start();
  const url = `http://127.0.0.1:${port}`;
  // The client is curl in its own process (as in the seed's scenarios), so it does not share the
  // server's event loop.
  const m = await measure(
    () =>
      new Promise<{ batch: { id: string } }>((resolve, reject) => {
        const curl = spawn('curl', ['-sS', '-X', 'POST', `${url}/contacts/import`, '-F', `file=@${csv}`]);
        let out = '';
        curl.stdout.on('data', (d) => {
          out += String(d);
        });
        curl.on('error', reject);
        curl.on('close', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`curl exited ${code}: ${out}`)),
        );
      }),
  );
  const rate = rows / (m.ms / 1000);
  if (importRate > 0) {
    const exact = rate / importRate;
    const ratio = round(exact, 2);
    report({
      case: 'import via HTTP',
      figure: Math.round(rate),
      unit: 'rows/s',
      baseline: Math.round(importRate),
      ratio,
      target: '≥ 0.9 × import case',
      met: exact >= 0.9,
    });
  }
  const batchId = m.result.batch.id;

  // 10,000 batches, then list pages; a 1M batch's page 1 and page 500 with a status filter and text search.
  const insBatch = app.db.$client.prepare(
    `INSERT INTO batches (id, name, source, status, created_by, created_at) VALUES (?, ?, 'cli', 'inactive', 'bench', ?)`,
  );
  app.db.$client.transaction(() => {
    for (let i = 0; i < 10_000; i++)
      insBatch.run(`batch_${i.toString(16).padStart(8, '0')}_1`, `b${i}.csv`, 1_000 + i);
  })();
  const timed = async (path: string, n = 40) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const res = await fetch(`${url}${path}`);
      await res.arrayBuffer();
      times.push(performance.now() - t);
    }
    return round(percentile(times, 95), 1);
  };
  const list = await timed('/contacts/batches?limit=50');
  const q = `/contacts/batches/${batchId}?status=active&q=example1&limit=50`;
  const page1 = await timed(q);
  let cursor = '';
  for (let i = 1; i < 500; i++) {
    const res = (await (await fetch(`${url}${q}${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
      nextCursor: string | null;
    };
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  const page500 = await timed(`${q}&cursor=${cursor}`);
  report({
    case: 'list (p95)',
    figure: Math.max(list, page1, page500),
    unit: 'ms',
    target: '< 50 ms each; page 500 ≤ 2 × page 1',
    met: list < 50 && page1 < 50 && page500 < 50 && page500 <= 2 * Math.max(page1, 1),
    extra: { 'batches list ms': list, 'page 1 ms': page1, 'page 500 ms': page500 },
  });
  await app.stop();
}

await main();
