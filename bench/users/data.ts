/**
 * The bench's data: a seeded database (N contacts in one old inactive batch, 5 % of N
 * suppressions) made once per data version and copied for each case, and "realistic" CSVs (an
 * Outlook-like export: BOM, CRLF, quoted fields, commas, quotes and line breaks inside quoted
 * notes, accented names, ~5 % invalid addresses, ~30 % addresses already in the database, some
 * of them suppressed, a few repeated). Written straight with better-sqlite3 into a file migrated
 * by `npm run migrate`: nothing here imports src/.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { npm, repoRoot } from './procs.js';

/** Bump when the shape of the generated data changes (cached files are keyed by it). */
const dataVersion = 3;

/** The old batch every seeded database holds (inactive), in the product's id format. */
export const oldBatchId = 'batch_0000a01d_1700000000';

const firstNames = [
  'João',
  'Maria',
  'José',
  'Ana',
  'Zoë',
  'Søren',
  'Łukasz',
  'Ünal',
  'François',
  'Chloé',
  'Björn',
  'Agnès',
  'Renée',
  'Jürgen',
  'Iñaki',
  'Håkon',
  'Dvořák',
  'Conceição',
  'Thiago',
  'Sam',
  'Li',
  'Yūki',
  'Ōta',
  'Émile',
];
const lastNames = [
  'Silva',
  'Gonçalves',
  'Müller',
  "O'Brien",
  'Nuñez',
  'Østergaard',
  'Kowalczyk',
  'Şahin',
  'Lefèvre',
  'Dubois',
  'van der Berg',
  'Smith-Jones',
  'Araújo',
  'Fernández',
  'Nguyễn',
  'Costa',
  'Kim',
  'Pérez',
  'Åberg',
  'Štěpánek',
];
const companies = [
  'Acme, Inc.',
  'Globex',
  'Initech Ltda.',
  'Umbrella "Health"',
  'Soylent & Co',
  'Pão de Açúcar',
  'Zürich Re',
  'Hooli',
  'Vandelay Industries',
  'Wayne Enterprises, LLC',
  'Stark Indústria',
  'Cyberdyne',
];
const positions = [
  'CEO',
  'CTO',
  'Head of Sales',
  'Diretor Comercial',
  'VP, Marketing',
  'Engenheira',
  'Buyer',
  '',
];
const domains = ['gmail.com', 'outlook.com', 'empresa.com.br', 'acme.io', 'globex.de', 'yahoo.fr', 'uni.edu'];
const invalid = [
  'n/a',
  '',
  'joão silva@acme.io',
  'maria@@gmail.com',
  'no-at-sign.gmail.com',
  'x@localhost',
  'a@b.',
];

const ascii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();

const pick = <T>(list: T[], i: number): T => list[i % list.length] as T;

/** The address of the i-th seeded (old) contact, already normalized. */
export function seedAddress(i: number): string {
  return `${ascii(pick(firstNames, i))}.${ascii(pick(lastNames, i * 7 + 3))}.${i}@${pick(domains, i)}`;
}

/** Seeded contacts that are suppressed: every 25th (4 % of N). */
const seedSuppressed = (i: number) => i % 25 === 0;
/** New addresses of the big CSV that are suppressed (people erased before, back in a list): 1 %. */
const newSuppressed = (j: number) => j % 100 === 3;

function newAddress(prefix: string, j: number): string {
  return `${ascii(pick(firstNames, j * 5 + 1))}.${ascii(pick(lastNames, j))}.${prefix}${j}@${pick(domains, j * 3)}`;
}

const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** A stride coprime with n, so j → (j * stride) % n visits every old contact at most once. */
function strideFor(n: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let s = 7919;
  while (gcd(s, n) !== 1) s += 2;
  return s;
}

/** One CSV row (CRLF-terminated) of a "realistic" export. */
function csvRow(prefix: string, j: number, known: number, stride: number): string {
  let email: string;
  if (j % 20 === 0) email = pick(invalid, j / 20);
  else if (known > 0 && [1, 4, 7].includes(j % 10)) {
    const old = seedAddress((j * stride) % known);
    email = j % 3 === 0 ? old.toUpperCase() : old; // known, sometimes in another case
  } else if (j % 250 === 9)
    email = newAddress(prefix, j - 1); // repeated in the file
  else email = newAddress(prefix, j);
  if (j % 40 === 2) email = ` ${email} `; // stray spaces
  const first = pick(firstNames, j * 5 + 1);
  const last = pick(lastNames, j);
  const notes =
    j % 7 === 0
      ? `Met at the fair, booth ${j % 90}\nSaid "call me after the 15th", prefers WhatsApp`
      : j % 5 === 0
        ? `Lead from ${pick(companies, j + 2)}; follow-up`
        : '';
  return `${[first, last, email, pick(companies, j), pick(positions, j), notes].map(quote).join(',')}\r\n`;
}

/** Writes an N-row realistic CSV; `known` old contacts are the pool the 30 % known addresses come from. */
export async function writeRealisticCsv(path: string, rows: number, prefix: string, known: number) {
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  out.write('\uFEFFFirst Name,Last Name,E-mail Address,Company,Job Title,Notes\r\n');
  const stride = strideFor(Math.max(1, known));
  let buf = '';
  for (let j = 0; j < rows; j++) {
    buf += csvRow(prefix, j, known, stride);
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  renameSync(tmp, path);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** A key for cached data: the data version, the rows and the migrations it was made with. */
function cacheKey(rows: number): string {
  const h = createHash('sha256').update(`${dataVersion}:${rows}`);
  const dir = join(repoRoot, 'drizzle');
  for (const f of readdirSync(dir).sort())
    if (f.endsWith('.sql')) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 12);
}

/** Inserts an inactive batch of `n` contacts with addresses from `address(i)`. */
export function seedBatch(sqlite: Database.Database, id: string, n: number, address: (i: number) => string) {
  const now = Date.now();
  sqlite
    .prepare(
      `INSERT INTO batches (id, name, source, status, created_by, created_at, contact_count)
       VALUES (?, ?, 'cli', 'inactive', 'bench', ?, ?)`,
    )
    .run(id, `${id}.csv`, now - 86_400_000, n);
  const ins = sqlite.prepare(
    `INSERT INTO contacts (email, email_hash, name, company, position, status, batch_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)`,
  );
  const chunk = sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const email = address(i);
      const name = `${pick(firstNames, i)} ${pick(lastNames, i * 7 + 3)}`;
      ins.run(email, sha256(email), name, pick(companies, i), pick(positions, i), id, now, now);
    }
  });
  for (let i = 0; i < n; i += 20_000) chunk(i, Math.min(n, i + 20_000));
}

/**
 * The template database: migrated by `npm run migrate`, then `rows` old contacts (inactive batch)
 * and 5 % of `rows` suppressions (4 % old contacts, 1 % addresses of the big CSV's new rows).
 * Cached under `dir` by cacheKey; returns its path.
 */
export async function templateDb(dir: string, rows: number): Promise<string> {
  const path = join(dir, `template-${cacheKey(rows)}.db`);
  if (existsSync(path)) return path;
  const tmp = `${path}.tmp`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  await npm(['run', 'migrate'], { DATABASE_PATH: tmp, LOG_LEVEL: 'warn' });
  const sqlite = new Database(tmp);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  seedBatch(sqlite, oldBatchId, rows, seedAddress);
  const sup = sqlite.prepare(
    `INSERT OR IGNORE INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, ?, 'bench', ?)`,
  );
  // As the product leaves them: an unsubscribed or bounced contact is suppressed; an erased
  // person ('deleted') is gone from contacts but stays suppressed.
  const reasonOf = (i: number) => (i % 50 === 0 ? 'unsubscribed' : 'bounced');
  const setStatus = sqlite.prepare('UPDATE contacts SET status = ? WHERE email = ?');
  sqlite.transaction(() => {
    for (let i = 0; i < rows; i += 25) {
      if (!seedSuppressed(i)) continue;
      sup.run(sha256(seedAddress(i)), reasonOf(i), 0);
      setStatus.run(reasonOf(i), seedAddress(i));
    }
    for (let j = 0; j < rows; j++) if (newSuppressed(j)) sup.run(sha256(newAddress('n', j)), 'deleted', 0);
  })();
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  renameSync(tmp, path);
  return path;
}

/** The big CSV (prefix `n`), cached beside the template. */
export async function bigCsv(dir: string, rows: number): Promise<string> {
  const path = join(dir, `realistic-${cacheKey(rows)}.csv`);
  if (!existsSync(path)) await writeRealisticCsv(path, rows, 'n', rows);
  return path;
}

/** Copies the template (its WAL was checkpointed away) to a case's own database file. */
export function copyDb(template: string, to: string): string {
  for (const f of [to, `${to}-wal`, `${to}-shm`]) rmSync(f, { force: true });
  copyFileSync(template, to);
  return to;
}

/** Counts of what a seeded database holds (for the report). */
export function dbCounts(path: string): { contacts: number; suppressions: number } {
  const sqlite = new Database(path, { readonly: true });
  const contacts = (sqlite.prepare('SELECT count(*) AS n FROM contacts').get() as { n: number }).n;
  const suppressions = (sqlite.prepare('SELECT count(*) AS n FROM suppressions').get() as { n: number }).n;
  sqlite.close();
  return { contacts, suppressions };
}
