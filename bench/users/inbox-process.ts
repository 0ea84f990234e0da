/**
 * `node --import tsx bench/users/inbox-process.ts <db> <dir>`: the inbox case's in-process figure.
 * Hands every .eml of dir (by name) to services.mailbox.process, one after another as the IMAP
 * reader does (seen, then process), on the database `db` (a copy taken before the server read the
 * mailbox), with the configuration of the environment (as `npm start` reads it) and the log at
 * info level to `<db>.log`. The reader hands each fetched chunk (50) over back to back, so the
 * event loop turns only between chunks here too (INBOX_BENCH_CHUNK=1: after every message).
 * Prints one JSON line: {processed, ms, rate, maxBlockMs, slowestMs, slowest, chunk} (the longest
 * event-loop block seen by monitorEventLoopDelay and a 10 ms interval; the slowest single message
 * and its file). The
 * product without IMAP.
 */
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createServices } from '../../src/core/index.js';
import { migrateDb, openDb } from '../../src/db/client.js';
import { CountThread } from '../../src/db/sqlite/count-thread.js';
import { sqliteStores } from '../../src/db/sqlite/stores.js';
import { createLogger } from '../../src/logger.js';
import { createMailer } from '../../src/mail/index.js';

const [dbPath, dir] = process.argv.slice(2);
if (!dbPath || !dir) throw new Error('usage: inbox-process.ts <db> <dir>');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.eml'))
  .sort();
const raws = files.map((f) => readFileSync(join(dir, f)));

const config = loadConfig({ ...process.env, DATABASE_PATH: dbPath, LOG_LEVEL: 'info' });
const log = createLogger('info', createWriteStream(`${dbPath}.log`));
const db = openDb(dbPath);
migrateDb(db);
const counts = CountThread.over(db.$client);
const mailer = createMailer({ outboxDir: join(dir, 'outbox'), log });
const services = createServices({ log, clock: systemClock }, sqliteStores(db, { counts }), config, mailer);

const h = monitorEventLoopDelay({ resolution: 5 });
let lag = 0;
let last = performance.now();
const lagTimer = setInterval(() => {
  const now = performance.now();
  lag = Math.max(lag, now - last - 10);
  last = now;
}, 10);
await new Promise((r) => setTimeout(r, 50));
h.enable();
const mailbox = 'imap://bench%40inprocess@127.0.0.1:1/INBOX';
/** The reader's chunk (mailbox-reader.ts chunkSize): it hands a fetched group over back to back. */
const chunk = Number(process.env.INBOX_BENCH_CHUNK ?? 50);
const t0 = performance.now();
let processed = 0;
let slowestMs = 0;
let slowest = '';
for (let i = 0; i < raws.length; i++) {
  const ref = { mailbox, uidValidity: '1', uid: i + 1 };
  const t = performance.now();
  if (!(await services.mailbox.seen(ref)) && (await services.mailbox.process(ref, raws[i]!)) !== 'duplicate')
    processed++;
  const took = performance.now() - t;
  if (took > slowestMs) [slowestMs, slowest] = [took, files[i]!];
  // Between chunks the reader waits for the IMAP server (STORE, SEARCH, FETCH): the loop turns.
  if ((i + 1) % chunk === 0) await new Promise((r) => setImmediate(r));
}
const ms = performance.now() - t0;
await new Promise((r) => setTimeout(r, 30)); // the timers see the last block before they are read
h.disable();
clearInterval(lagTimer);
await counts?.close();
db.$client.close();
const maxBlockMs = Math.max(h.max / 1e6, lag);
const round = (x: number) => Math.round(x * 10) / 10;
process.stdout.write(
  `${JSON.stringify({ processed, ms, rate: processed / (ms / 1000), maxBlockMs: round(maxBlockMs), slowestMs: round(slowestMs), slowest, chunk })}\n`,
);
process.exit(0);
