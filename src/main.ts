import { type App, createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { readEnv } from './env.js';
import { storageError } from './errors.js';

/** The database for the log: the SQLite path, or the Postgres host and database (never the password). */
function databaseName(c: { databaseUrl: string | undefined; databasePath: string }): string {
  if (!c.databaseUrl) return c.databasePath;
  const u = new URL(c.databaseUrl);
  return `postgres://${u.host}${u.pathname}`;
}

function fail(thrown: unknown, databasePath?: string): never {
  const e = storageError(thrown, databasePath) ?? thrown;
  console.error(
    e instanceof ConfigError
      ? e.message
      : `coldbatch could not start: ${e instanceof Error ? e.message : String(e)}`,
  );
  process.exit(1);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(readEnv());
} catch (e) {
  fail(e);
}

let app: App;
try {
  app = await createApp(config);
} catch (e) {
  fail(e, config.databaseUrl ? undefined : config.databasePath);
}

// Installed before start: a SIGTERM while starting stops cleanly too.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

app.log.info({ database: databaseName(config) }, 'database ready');
await app.start().catch((e: unknown) => fail(e, config.databasePath));
