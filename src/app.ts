import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { createServices, type Services } from './core/index.js';
import type { CoreDeps } from './core/types.js';
import { type Db, migrateDb, openDb } from './db/client.js';
import { createHttpApp } from './http/server.js';
import { createLogger, type Logger } from './logger.js';

export type App = {
  config: Config;
  db: Db;
  log: Logger;
  services: Services;
  /** Starts listening; resolves with the bound port. */
  start(): Promise<{ port: number; host: string }>;
  stop(): Promise<void>;
};

export type AppOptions = { clock?: Clock; logDestination?: DestinationStream };

/** Composition root: database (migrated, crash leftovers swept), services, HTTP server. */
export function buildApp(config: Config, options: AppOptions = {}): App {
  const log = createLogger(config.logLevel, options.logDestination);
  const db = openDb(config.databasePath);
  migrateDb(db);
  const core: CoreDeps = { db, log, clock: options.clock ?? systemClock };
  const services = createServices(core, { importMaxBytes: config.importMaxBytes });
  const swept = services.imports.sweepInterrupted();
  if (swept.length > 0) log.warn({ batches: swept }, 'removed batches of imports interrupted by a crash');

  const http = createHttpApp({
    services,
    core,
    apiToken: config.apiToken,
    importMaxBytes: config.importMaxBytes,
    health: { slack: () => 'disabled', smtp: () => 'outbox' },
  });
  let server: Server | undefined;

  return {
    config,
    db,
    log,
    services,
    start: () =>
      new Promise((resolve, reject) => {
        const s = http.listen(config.port, config.host, () => {
          const { port } = s.address() as AddressInfo;
          log.info(
            { port, host: config.host, auth: config.apiToken ? 'bearer' : 'none (loopback only)' },
            config.apiToken
              ? 'REST API listening; bearer token required'
              : 'REST API listening on 127.0.0.1 only: set API_TOKEN to accept other hosts',
          );
          resolve({ port, host: config.host });
        });
        s.once('error', reject);
        server = s;
      }),
    stop: async () => {
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeAllConnections();
      }
      db.$client.close();
    },
  };
}
