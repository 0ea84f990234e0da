/**
 * The import cases of one run: the raw baseline (csv-parse + INSERT into a table with the
 * contacts table's indexes, in a copy of the same seeded database), the big import POSTed to the
 * running server by curl (its own process), 1,300-row imports timed by a keep-alive client, and
 * `npm run import` of the same big file.
 */
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse';
import { copyDb, writeRealisticCsv } from './data.js';
import { npm, type ProbeWindow, probeEnv, readProbe, type Server } from './procs.js';

export type ImportReport = {
  rows?: number;
  imported?: number;
  invalid?: number;
  existing?: number;
  suppressed?: number;
};

/** Removes a database copy and its WAL files. */
export function dropDb(path: string) {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
}

/**
 * csv-parse + INSERT OR IGNORE in 10,000-row transactions into `raw`, a table with the columns
 * and the indexes of `contacts` (UNIQUE(email), (batch_id, id), (batch_id, status, id); no hash,
 * no validation, no foreign key), pre-filled with the seeded contacts, on the server's pragmas.
 * Returns rows/s for the file's data rows.
 */
export async function rawBaseline(template: string, csv: string, dir: string, rows: number): Promise<number> {
  const path = copyDb(template, join(dir, 'raw.db'));
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -32768');
  db.exec(`CREATE TABLE raw (
    id integer PRIMARY KEY AUTOINCREMENT NOT NULL, email text NOT NULL, name text, company text,
    position text, source text, status text DEFAULT 'active' NOT NULL, batch_id text NOT NULL,
    created_at integer NOT NULL, updated_at integer NOT NULL);
    INSERT INTO raw (email, name, company, position, status, batch_id, created_at, updated_at)
      SELECT email, name, company, position, status, batch_id, created_at, updated_at FROM contacts;
    CREATE UNIQUE INDEX raw_email ON raw (email);
    CREATE INDEX raw_batch ON raw (batch_id, id);
    CREATE INDEX raw_batch_status ON raw (batch_id, status, id);`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const ins = db.prepare(
    `INSERT OR IGNORE INTO raw (email, name, company, position, status, batch_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'active', 'batch_raw', ?, ?)`,
  );
  const flush = db.transaction((batch: string[][]) => {
    const now = Date.now();
    for (const r of batch) ins.run(r[2], `${r[0]} ${r[1]}`, r[3], r[4], now, now);
  });
  const t0 = performance.now();
  let batch: string[][] = [];
  let n = 0;
  for await (const rec of createReadStream(csv).pipe(parse({ bom: true, from_line: 2 })) as AsyncIterable<
    string[]
  >) {
    batch.push(rec);
    n++;
    if (batch.length >= 10_000) {
      flush(batch);
      batch = [];
    }
  }
  flush(batch);
  const ms = performance.now() - t0;
  db.close();
  dropDb(path);
  if (n !== rows) throw new Error(`raw baseline read ${n} rows, expected ${rows}`);
  return rows / (ms / 1000);
}

/** POSTs the file as `curl -F file=@…` does (multipart, streamed from disk) and times it. */
export function curlImport(
  server: Server,
  csv: string,
  name: string,
): Promise<{ ms: number; status: number; body: { report?: ImportReport; error?: unknown } }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const curl = spawn('curl', [
      '-sS',
      '-w',
      '\n%{http_code}',
      '-H',
      `Authorization: Bearer ${server.token}`,
      '-F',
      `file=@${csv};type=text/csv`,
      '-F',
      `name=${name}`,
      `${server.url}/contacts/import`,
    ]);
    let out = '';
    curl.stdout.on('data', (d) => {
      out += String(d);
    });
    curl.on('error', reject);
    curl.on('close', (code) => {
      const ms = performance.now() - t0;
      const nl = out.lastIndexOf('\n');
      const status = Number(out.slice(nl + 1));
      if (code !== 0) return reject(new Error(`curl exited ${code}: ${out}`));
      try {
        resolve({ ms, status, body: JSON.parse(out.slice(0, nl)) });
      } catch {
        reject(new Error(`import answered ${status}: ${out.slice(0, 500)}`));
      }
    });
  });
}

/** The big import through the running server: wall time, the server's probe over that window, the report. */
export async function httpImport(server: Server, csv: string, rows: number, name: string) {
  const from = Date.now();
  const r = await curlImport(server, csv, name);
  const to = Date.now();
  if (r.status !== 201)
    throw new Error(`POST /contacts/import answered ${r.status}: ${JSON.stringify(r.body)}`);
  // let the probe write the line that covers the end of the window
  await new Promise((res) => setTimeout(res, 400));
  const probe: ProbeWindow = readProbe(server.probeOut, from, to);
  return { rate: rows / (r.ms / 1000), ms: r.ms, probe, report: r.body.report ?? {} };
}

/** Writes `count` distinct 1,300-row realistic files (new addresses differ per file; 30 % are old contacts). */
export async function smallFiles(dir: string, run: number, count: number, known: number): Promise<string[]> {
  const files: string[] = [];
  for (let k = 0; k < count; k++) {
    const path = join(dir, `small-${run}-${k}.csv`);
    await writeRealisticCsv(path, 1300, `s${run}x${k}q`, known);
    files.push(path);
  }
  return files;
}

/** Each small file POSTed as a text/csv body by a keep-alive client; wall time of each (ms). */
export async function smallImports(server: Server, files: string[]): Promise<number[]> {
  const times: number[] = [];
  for (const [k, file] of files.entries()) {
    const body = readFileSync(file);
    const t0 = performance.now();
    const res = await server.api(`/contacts/import?name=small-${k}`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body,
    });
    const text = await res.text();
    times.push(performance.now() - t0);
    if (res.status !== 201) throw new Error(`small import answered ${res.status}: ${text.slice(0, 300)}`);
  }
  return times;
}

/** `npm run import -- <csv>` on its own copy of the database, the probe in the CLI's process. */
export async function cliImport(
  db: string,
  csv: string,
  rows: number,
  env: Record<string, string>,
  probeOut: string,
  name: string,
) {
  const r = await npm(['run', 'import', '--', csv, '--name', name], {
    ...env,
    DATABASE_PATH: db,
    ...probeEnv(probeOut, 'src/cli/import.ts'),
  });
  await new Promise((res) => setTimeout(res, 50));
  const probe = readProbe(probeOut);
  const imported = Number(/Imported (\d+) contacts/.exec(r.stdout)?.[1] ?? Number.NaN);
  return { rate: rows / (r.ms / 1000), ms: r.ms, probe, imported };
}

/** Wall time of `npm run import -- --help`: what starting the CLI costs before any work. */
export async function cliStartMs(env: Record<string, string>): Promise<number> {
  const r = await npm(['run', 'import', '--', '--help'], env, true);
  return r.ms;
}
