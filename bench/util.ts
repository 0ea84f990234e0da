import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import { emailHash } from '../src/core/contacts/email-hash.js';

export const dataDir = join(import.meta.dirname, '.data');

export function freshDir(name: string): string {
  const dir = join(dataDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes an N-row CSV (email, name, company, position) without holding it in memory. */
export async function writeCsv(path: string, rows: number, prefix: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('email,name,company,position\n');
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${prefix}${i}@example${i % 997}.com,Person ${i},Company ${i % 5000},Role ${i % 37}\n`)) {
      await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
}

/** Fills a migrated database with `rows` contacts in one inactive batch (fast, straight SQL). */
export function seedContacts(
  sqlite: Database.Database,
  rows: number,
  batchId: string,
  prefix: string,
  status = 'inactive',
): void {
  sqlite
    .prepare(
      `INSERT INTO batches (id, name, source, status, created_by, created_at, contact_count) VALUES (?, ?, 'cli', ?, 'bench', ?, ?)`,
    )
    .run(batchId, `${prefix}.csv`, status, Date.now(), rows);
  const ins = sqlite.prepare(
    `INSERT INTO contacts (email, email_hash, name, company, position, status, batch_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)`,
  );
  const now = Date.now();
  const chunk = sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const email = `${prefix}${i}@example${i % 997}.com`;
      ins.run(
        email,
        emailHash(email),
        `Person ${i}`,
        `Company ${i % 5000}`,
        `Role ${i % 37}`,
        batchId,
        now,
        now,
      );
    }
  });
  for (let i = 0; i < rows; i += 50_000) chunk(i, Math.min(rows, i + 50_000));
}

/** Runs fn while sampling peak RSS and the event loop's longest block. */
export async function measure<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; ms: number; peakRssMb: number; startRssMb: number; maxBlockMs: number }> {
  // With --expose-gc (npm run bench passes it), start from collected garbage so RSS is about fn.
  (globalThis as { gc?: () => void }).gc?.();
  const startRss = process.memoryUsage().rss;
  const h = monitorEventLoopDelay({ resolution: 10 });
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 25);
  h.enable();
  const started = performance.now();
  const result = await fn();
  const ms = performance.now() - started;
  h.disable();
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    result,
    ms,
    peakRssMb: Math.round(peak / 1024 / 1024),
    startRssMb: Math.round(startRss / 1024 / 1024),
    maxBlockMs: Math.round(h.max / 1e6),
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
