import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { z } from 'zod';
import { openPostgresDatabase } from '../app-database.js';
import { systemClock } from '../clock.js';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { createServices, type Services } from '../core/index.js';
import type { Stores } from '../core/stores.js';
import { migrateDb, openDb } from '../db/client.js';
import { needsLegacyUpgrade } from '../db/legacy-upgrade.js';
import { sqliteStores } from '../db/sqlite/stores.js';
import { readEnv } from '../env.js';
import { isDomainError, storageError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createOutboxMailer } from '../mail/index.js';

/** Bad command-line input: the CLI prints the message and its usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--help` / `-h`: the CLI prints its usage and exits 0. */
class HelpRequested extends Error {}

/** The actor every change made from a shell is recorded as. */
export const cliActor = 'cli';

/**
 * A path the user typed, resolved against the directory they ran the command from: npm runs
 * scripts in the package root and keeps the caller's directory in INIT_CWD.
 */
export function callerPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INIT_CWD || process.cwd(), path);
}

/** parseArgs (strict) plus `--help`/`-h`; unknown options and missing values become a UsageError. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const argv = config.args ?? process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested();
  try {
    return parseArgs(config); // strict by default: unknown options are refused
  } catch (e) {
    // Node's text goes on about `--` for positionals; the first sentence is what matters here.
    const text = e instanceof Error ? e.message : String(e);
    throw new UsageError(`${text.split(/\.\s/)[0]?.replace(/\.$/, '')}.`);
  }
}

/** Core services over DATABASE_PATH (migrated), as the app builds them. */
export type CliCore = { config: Config; services: Services; close(): Promise<void> };

/** Opens the database and the core services the app uses; logs (LOG_LEVEL, default warn) go to stderr. */
export async function openCore(): Promise<CliCore> {
  const config = loadConfig(readEnv());
  const level = process.env.LOG_LEVEL ? config.logLevel : 'warn';
  const log = createLogger(level, undefined, { format: config.logFormat, fd: 2 });
  const database = config.databaseUrl
    ? // Joined to the cluster like an app instance, so its claims (an import) are its own while it runs.
      await openPostgresDatabase(config, config.databaseUrl, log, systemClock)
    : openSqlite(config);
  // The CLIs never send (the app's send engine does): an outbox mailer that stays unused.
  const mailer = createOutboxMailer({ dir: config.mail.outboxDir, log });
  const services = createServices({ log, clock: systemClock }, database.stores, config, mailer);
  return {
    config,
    services,
    close: async () => {
      await services.webhooks.stop();
      await services.validation.stop();
      await services.imports.stop();
      await mailer.close();
      await database.close();
    },
  };
}

/** SQLite at DATABASE_PATH, migrated; a file the user cannot use is refused with what to do. */
function openSqlite(config: Config): { stores: Stores; close(): Promise<void> } {
  let db: ReturnType<typeof openDb>;
  try {
    db = openDb(config.databasePath);
  } catch (e) {
    throw storageError(e, config.databasePath) ?? e;
  }
  try {
    if (needsLegacyUpgrade(db)) {
      throw new Error(
        `${config.databasePath} has the old contacts schema: run npm run migrate first (it upgrades it in place).`,
      );
    }
    migrateDb(db);
  } catch (e) {
    db.$client.close();
    throw storageError(e, config.databasePath) ?? e;
  }
  return {
    stores: sqliteStores(db),
    close: async () => {
      db.$client.close();
    },
  };
}

/**
 * What `npm run backup` and `restore` say on Postgres (DATABASE_URL): a database server is backed
 * up with its own tools, online and consistent, not by copying a file.
 */
export const postgresBackupAdvice = `DATABASE_URL is set: coldbatch's backup and restore copy a SQLite file. Back up Postgres with its own tools:
  pg_dump -Fc "$DATABASE_URL" > coldbatch.dump                           (online, a consistent snapshot)
  pg_restore --clean --if-exists --no-owner -d "$DATABASE_URL" coldbatch.dump   (stop the app first)
The unsubscribe key is in the database, so a restored dump keeps old unsubscribe links working.`;

/** Runs fn over the opened core, then closes it; exit code 0 (a refusal it throws: 1, via runCli). */
export async function withCore(fn: (core: CliCore) => void | Promise<void>): Promise<number> {
  const core = await openCore();
  try {
    await fn(core);
    return 0;
  } finally {
    await core.close();
  }
}

/**
 * Runs a CLI and exits: its own code; 0 with the usage on stdout for --help; 2 with the problem
 * and the usage on stderr for bad input; 1 with one line for a refusal or a failure.
 */
export function runCli(name: string, usage: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (thrown: unknown) => {
      if (thrown instanceof HelpRequested) {
        console.log(usage);
        process.exit(0);
      }
      if (thrown instanceof UsageError) {
        console.error(`${thrown.message}\n\n${usage}`);
        process.exit(2);
      }
      const e = storageError(thrown) ?? thrown;
      if (e instanceof ConfigError || isDomainError(e)) console.error(e.message);
      else console.error(`${name} failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}

/** Rows as left-aligned columns (the first row is the header). */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** An ISO time as `2026-01-15 12:00 UTC`, or a dash. */
export function shortTime(iso: string | null): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '-';
}

/** Parses a value from the command line with zod; a failure is a UsageError naming what was wrong. */
export function parseArg<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  if (value === undefined) throw new UsageError(`${what} is missing.`);
  throw new UsageError(
    `${what} ${r.error.issues[0]?.message ?? 'is not valid'}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}.`,
  );
}

/**
 * The command line of a list/show/change CLI (`npm run batches`, `npm run campaigns`): a command
 * (default `list`), an id, the shared options, and `out` printing JSON (--json) or text.
 */
export function parseResourceCommand() {
  const { values, positionals } = parseCommandLine({
    allowPositionals: true,
    options: {
      status: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [command = 'list', id, ...rest] = positionals;
  const out = (json: unknown, text: () => string) =>
    console.log(values.json ? JSON.stringify(json, null, 2) : text());
  return { values, command, id, rest, out };
}
