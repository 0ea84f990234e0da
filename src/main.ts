import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { readEnv } from './env.js';
import { storageError } from './errors.js';

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

let app: ReturnType<typeof buildApp>;
try {
  app = buildApp(config);
} catch (e) {
  fail(e, config.databasePath);
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

app.log.info({ database: config.databasePath }, 'database ready');
await app.start().catch((e: unknown) => fail(e, config.databasePath));
