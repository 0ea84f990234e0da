import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { type App, type AppOptions, createApp } from '../src/app.js';
import type { Clock } from '../src/clock.js';
import { type Config, loadConfig } from '../src/config.js';
import { createServices, type Services } from '../src/core/index.js';
import type { CoreDeps } from '../src/core/types.js';
import { type Db, migrateDb, openDb } from '../src/db/client.js';
import type { PgDb } from '../src/db/pg/client.js';
import { pgStores } from '../src/db/pg/stores.js';
import { CountThread } from '../src/db/sqlite/count-thread.js';
import { sqliteStores } from '../src/db/sqlite/stores.js';
import { DomainError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { createMailer } from '../src/mail/index.js';
import type { Mailer } from '../src/mail/mailer.js';
import { freshPg, freshPgSync } from './pg/pg.js';

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'coldbatch-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A log sink that keeps every line, for tests that read the log. */
export function memoryLog(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A clock tests can move. */
export function testClock(
  start = Date.UTC(2026, 0, 15, 12),
): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    set: (ms: number) => {
      now = ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Core services over a real, migrated SQLite file in a temp dir (mail to an outbox in the same dir). */
export function testCore(
  opts: {
    importMaxBytes?: number;
    clock?: Clock;
    env?: Record<string, string>;
    mailer?: Mailer;
    /** An existing database file (and the folder for the outbox and backups), opened and migrated as at a start; left in place. */
    at?: { path: string; dir: string };
    /** Count the audience and campaign figures in a worker thread, as the app does (closed by cleanup). */
    countsOffThread?: boolean;
  } = {},
): {
  db: Db;
  /** The Postgres database (COLDBATCH_TEST_DB=postgres), else undefined. */
  pg?: PgDb;
  deps: CoreDeps;
  services: Services;
  path: string;
  cleanup: () => void;
} {
  const { dir, cleanup } = opts.at ? { dir: opts.at.dir, cleanup: () => {} } : tempDir();
  const path = opts.at?.path ?? join(dir, 'test.db');
  const log = createLogger('silent');
  const deps: CoreDeps = { log, clock: opts.clock ?? { now: () => Date.now() } };
  const config = loadConfig({
    MAIL_FROM: 'Sales <sales@coldbatch.test>',
    MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo, Brasil',
    PUBLIC_URL: 'https://coldbatch.test',
    MAIL_OUTBOX_DIR: join(dir, 'outbox'),
    DATABASE_PATH: path,
    BACKUP_DIR: join(dir, 'backups'),
    IMPORT_MAX_BYTES: String(opts.importMaxBytes ?? 50 * 1024 * 1024),
    // No DNS from tests unless one opts in (test/core/validation runs its own DNS server on loopback).
    VALIDATE_ON_IMPORT: 'false',
    ...opts.env,
  });
  const mailer = opts.mailer ?? createMailer({ outboxDir: config.mail.outboxDir, log });
  if (testDialect() === 'postgres' && !opts.at) {
    // A database of its own on the run's Postgres; `db` throws (a test reading SQLite runs on SQLite only).
    const pg = freshPgSync();
    return {
      get db(): Db {
        throw new Error(
          'core.db is the SQLite handle: this test reads SQLite directly and runs on SQLite only',
        );
      },
      pg: pg.db,
      deps,
      services: createServices(deps, pgStores(pg.db), config, mailer),
      path,
      cleanup: () => {
        void pg.drop();
        cleanup();
      },
    };
  }
  const db = openDb(path);
  migrateDb(db);
  const counts = opts.countsOffThread ? CountThread.over(db.$client) : null;
  const services = createServices(deps, sqliteStores(db, { counts }), config, mailer);
  return {
    db,
    deps,
    services,
    path,
    cleanup: () => {
      void counts?.close();
      db.$client.close();
      cleanup();
    },
  };
}

/**
 * Which database the service tests run on: SQLite, or Postgres in the `postgres` test project
 * (vitest.config.ts), which runs the service tests again with COLDBATCH_TEST_DB=postgres.
 */
export function testDialect(): 'sqlite' | 'postgres' {
  return process.env.COLDBATCH_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
}

export function testConfig(env: Record<string, string> = {}): Config & { dir: string } {
  const { dir } = tempDir();
  const config = {
    ...loadConfig({
      PORT: '0',
      LOG_LEVEL: 'silent',
      // Real mail (SMTP_URL) needs an https PUBLIC_URL for its unsubscribe links.
      PUBLIC_URL: 'https://coldbatch.test',
      DATABASE_PATH: join(dir, 'app.db'),
      BACKUP_DIR: join(dir, 'backups'),
      VALIDATE_ON_IMPORT: 'false',
      ...env,
    }),
    dir,
  };
  // No doctor holds in tests (their SMTP sinks send as domains without DNS): the hold's own tests turn it on.
  config.campaigns.holdOnDoctor = false;
  return config;
}

/**
 * The Postgres databases of this test file's apps, by DATABASE_PATH: an app stopped and started
 * again on the same path (a restart) finds the database it left, as it finds its SQLite file.
 */
const pgByPath = new Map<string, string>();

/** The Postgres database an app started with `env` runs on: the one its DATABASE_PATH had, else a fresh one. */
async function pgDatabaseFor(env: Record<string, string>): Promise<string> {
  const key = env.DATABASE_PATH ? resolve(env.DATABASE_PATH) : null;
  const known = key ? pgByPath.get(key) : undefined;
  if (known) return known;
  const pg = await freshPg(); // async here: no child process as testCore's sync path needs
  await pg.db.$client.end(); // the app opens its own pool on it
  if (key) pgByPath.set(key, pg.url);
  return pg.url;
}

/** The real app on a random loopback port (on Postgres in the `postgres` test project). */
export async function startTestApp(
  env: Record<string, string> = {},
  options: AppOptions = {},
): Promise<{ app: App; url: string; stop: () => Promise<void> }> {
  const pgUrl = testDialect() === 'postgres' && !env.DATABASE_URL ? await pgDatabaseFor(env) : null;
  const config = testConfig(pgUrl ? { ...env, DATABASE_URL: pgUrl } : env);
  const app = await createApp(config, options);
  const { port } = await app.start();
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await app.stop();
      rmSync(config.dir, { recursive: true, force: true });
    },
  };
}

/** A byte source from a string or buffer, in chunks of the given size (to exercise chunk boundaries). */
export async function* bytes(
  content: string | Uint8Array,
  chunkSize = 64 * 1024,
): AsyncGenerator<Uint8Array> {
  const buf = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  for (let i = 0; i < buf.length; i += chunkSize) yield buf.subarray(i, i + chunkSize);
}

/** Imports text through the real engine. */
export function importText(
  services: Services,
  content: string | Uint8Array,
  opts: { fileName?: string; activate?: boolean; force?: boolean; chunkSize?: number } = {},
) {
  return services.imports.importFile({
    source: bytes(content, opts.chunkSize),
    fileName: opts.fileName ?? 'contacts.csv',
    origin: 'api',
    actor: 'test',
    options: { activate: opts.activate, force: opts.force },
  });
}

/** Uploads a file to POST /contacts/import as multipart, like `curl -F file=@name`. */
export async function uploadCsv(
  url: string,
  content: string | Uint8Array,
  opts: { fileName?: string; fields?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const form = new FormData();
  form.append(
    'file',
    new Blob([typeof content === 'string' ? content : Buffer.from(content)]),
    opts.fileName ?? 'contacts.csv',
  );
  for (const [k, v] of Object.entries(opts.fields ?? {})) form.append(k, v);
  const res = await fetch(`${url}/contacts/import`, { method: 'POST', body: form, headers: opts.headers });
  return { status: res.status, body: await res.json() };
}

/** Polls until the check returns a truthy value; gives up after 15 s (generous: CI runs on 2 shared cores). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs fn and returns the DomainError it throws, or (for an async fn) a promise of the one it
 * rejects with; fails the test if it throws nothing or something else.
 */
export function refusal(fn: () => Promise<unknown>): Promise<DomainError>;
export function refusal(fn: () => void): DomainError;
export function refusal(fn: () => unknown): DomainError | Promise<DomainError> {
  const caught = (e: unknown): DomainError => {
    if (e instanceof DomainError) return e;
    throw e;
  };
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    return caught(e);
  }
  if (result instanceof Promise)
    return result.then(() => {
      throw new Error('expected a DomainError');
    }, caught);
  throw new Error('expected a DomainError');
}

/** The seed's own `CREATE TABLE contacts` (before batch_id existed), for legacy-upgrade tests. */
export const seedContactsSchema = `CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT UNIQUE NOT NULL,
    name TEXT,
    company TEXT,
    position TEXT,
    source TEXT,
    status TEXT DEFAULT 'active',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);`;
