import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from 'express';
import type { DestinationStream } from 'pino';
import { type AppDatabase, openPostgresDatabase, openSqliteDatabase } from './app-database.js';
import { campaignWarnings, mailerOptions } from './app-settings.js';
import { appTicks } from './app-ticks.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { HealthService } from './core/health.js';
import { createServices, type Services } from './core/index.js';
import type { CoreDeps } from './core/types.js';
import type { Db } from './db/client.js';
import { createHttpApp } from './http/server.js';
import { createLogger, type Logger } from './logger.js';
import { mailboxReaders } from './mail/imap/index.js';
import { createMailer, type Mailer } from './mail/index.js';
import { startScheduler } from './scheduler/index.js';
import type { SlackRuntime } from './slack/app.js';
import { proposeRetention } from './slack/flows/retention.js';

export type App = {
  config: Config;
  /** The database it runs on: SQLite (DATABASE_PATH) or Postgres (DATABASE_URL). */
  engine: 'sqlite' | 'postgres';
  /** The SQLite handle (tests, tools); throws on Postgres. */
  readonly db: Db;
  log: Logger;
  services: Services;
  /** The Slack runtime once started, when Slack tokens are configured. */
  readonly slack: SlackRuntime | null;
  /** Settles when the start-up sweeps (a crash's claimed sends, imports, Slack files) are done; start waits for it. */
  readonly ready: Promise<void>;
  /** Starts listening (and Slack); resolves with the bound port. */
  start(): Promise<{ port: number; host: string }>;
  stop(): Promise<void>;
};

export type AppOptions = {
  clock?: Clock;
  logDestination?: DestinationStream;
  /** Slack Web API retries (default: the SDK's); tests use 0. */
  slackRetries?: number;
  /** Slack Web API request timeout (default 60 s). */
  slackTimeoutMs?: number;
  /** How often long Slack imports show progress (default 2 s). */
  slackProgressIntervalMs?: number;
  /** false: no node-cron ticks (tests call services.sending.runDue() with a settable clock). */
  scheduler?: boolean;
  /** A mailer to use instead of the one SMTP_URL / MAIL_OUTBOX_DIR describe. */
  mailer?: Mailer;
};

export { campaignWarnings, mailerOptions } from './app-settings.js';

/**
 * Composition root over SQLite (DATABASE_PATH): database (migrated, crash leftovers swept),
 * services, HTTP server. With DATABASE_URL use createApp, which opens Postgres first.
 */
export function buildApp(config: Config, options: AppOptions = {}): App {
  if (config.databaseUrl) throw new Error('DATABASE_URL is set: build the app with createApp (Postgres)');
  const log = createLogger(config.logLevel, options.logDestination, { format: config.logFormat });
  return assemble(config, options, log, openSqliteDatabase(config));
}

/** The app on the database the configuration names: Postgres when DATABASE_URL is set, else SQLite. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  if (!config.databaseUrl) return buildApp(config, options);
  const log = createLogger(config.logLevel, options.logDestination, { format: config.logFormat });
  const database = await openPostgresDatabase(config, config.databaseUrl, log, options.clock ?? systemClock);
  return assemble(config, options, log, database);
}

function assemble(config: Config, options: AppOptions, log: Logger, database: AppDatabase): App {
  const { stores } = database;
  const core: CoreDeps = { log, clock: options.clock ?? systemClock };
  const mailer =
    options.mailer ??
    createMailer({
      ...mailerOptions(config),
      thread: true, // the SMTP pool builds and writes messages off the main thread
      log,
      identityStore: database.identityStore,
      clock: core.clock,
    });
  const services = createServices(core, stores, config, mailer);
  const readers = mailboxReaders(config.inbox, { log, clock: core.clock }); // started in start()
  // Rows a crash left claimed become unknown before anything is claimed (runDue waits for it too).
  const sendsSwept = services.sending.sweepInterrupted();
  // Batches a crash left `importing` are removed before serving (start waits for it).
  const importsSwept = services.imports.sweepInterrupted().then((swept) => {
    if (swept.length > 0) log.warn({ batches: swept }, 'removed batches of imports interrupted by a crash');
  });
  // Files a crash left claimed are failed before Slack can claim any (start waits for it).
  const inboxSwept = Promise.all([services.inbox.sweepInterruptedFiles(), services.inbox.pruneEvents()]);
  const ready = Promise.all([sendsSwept, importsSwept, inboxSwept]).then(() => undefined);

  let slack: SlackRuntime | null = null;
  // Bolt (its SDKs weigh ~N MB) loads in start() only when Slack is configured; in HTTP mode its
  // endpoint goes on this router, in the stack before the API's bearer auth.
  const slackRouter = Router();
  const http = createHttpApp(
    {
      services,
      log,
      apiToken: config.apiToken,
      importMaxBytes: config.importMaxBytes,
      health: {
        engine: database.engine,
        core: new HealthService(stores.health),
        slack: () => slack?.mode ?? 'disabled',
        smtp: () => smtpState,
        identities: () => mailer.identities?.(core.clock.now()),
        mailboxes: () => readers.states(),
      },
    },
    (express) => {
      if (config.slack && !config.slack.appToken) express.use(slackRouter);
    },
  );
  let server: Server | undefined;
  let scheduler: { stop(): Promise<void> } | undefined;
  let smtpState = mailer.kind === 'outbox' ? 'outbox' : 'unknown';

  return {
    config,
    engine: database.engine,
    get db(): Db {
      if (!database.sqlite) throw new Error('app.db is the SQLite handle: this app runs on Postgres');
      return database.sqlite;
    },
    log,
    services,
    ready,
    get slack() {
      return slack;
    },
    start: async () => {
      await sendsSwept;
      const [interruptedFiles] = await inboxSwept;
      await importsSwept;
      await database.started(log);
      const slackApp = config.slack ? await import('./slack/app.js') : null;
      if (slackApp && config.slack) {
        slack = slackApp.createSlack({
          config: config.slack,
          services,
          log,
          importMaxBytes: config.importMaxBytes,
          ...(config.slack.appToken ? {} : { router: slackRouter }),
          ...(options.slackRetries !== undefined ? { retries: options.slackRetries } : {}),
          ...(options.slackTimeoutMs !== undefined ? { timeoutMs: options.slackTimeoutMs } : {}),
          ...(options.slackProgressIntervalMs !== undefined
            ? { progressIntervalMs: options.slackProgressIntervalMs }
            : {}),
        });
      }
      const bound = await listen();
      await services.validation.resumeInterrupted();
      services.webhooks.kick(); // deliveries left pending by a stop or crash go now
      // INBOX_URL, #inbox=: each mailbox is read from now on, by one instance of the cluster.
      database.cluster.lead('inbox', {
        start: () => readers.start(services.mailbox),
        stop: () => readers.stop(),
      });
      for (const w of campaignWarnings(config)) log.warn({ variable: w.variable }, w.message);
      if (mailer.kind === 'outbox') {
        log.info(
          { dir: config.mail.outboxDir },
          'SMTP_URL not set: e-mails are written as .eml files, nothing leaves this machine',
        );
      } else {
        void mailer
          .verify()
          .catch(() => false)
          .then((ok) => {
            smtpState = ok ? 'ok' : 'unreachable';
            log[ok ? 'info' : 'warn'](
              { smtp: smtpState },
              ok ? 'SMTP server reachable' : 'SMTP server not reachable now',
            );
          });
      }
      if (options.scheduler !== false) {
        scheduler = startScheduler(
          appTicks({
            config,
            services,
            cluster: database.cluster,
            engine: database.engine,
            retentionTick,
            sweepReplies: async () => slack?.sweepReplies(),
          }),
          log,
        );
      }
      if (slack && slackApp) {
        await slack.start();
        await slackApp.announceInterrupted(slack, interruptedFiles, log);
      } else {
        log.info(
          'Slack disabled: set SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode)',
        );
      }
      return bound;
    },
    stop: async () => {
      await scheduler?.stop();
      await services.sending.stop(); // what is in flight is answered and settled first
      await Promise.all([readers.stop(), services.webhooks.stop()]);
      await services.validation.stop();
      await slack?.stop();
      if (server) {
        const s = server;
        // Idle keep-alive connections go now; a request still running gets 2 s to finish.
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        const force = setTimeout(() => s.closeAllConnections(), 2000);
        await closed;
        clearTimeout(force);
      }
      await services.imports.stop();
      await mailer.close();
      await database.close();
    },
  };

  /** RETENTION_DAYS, daily: proposes old inactive batches for deletion in Slack (never deletes). */
  async function retentionTick(): Promise<void> {
    const s: SlackRuntime | null = slack;
    if (!s || !config.slack || !config.retentionDays) return;
    await proposeRetention({ services, client: s.client, slack: config.slack, log }, config.retentionDays);
  }

  function listen(): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
      // Express 5 calls back with the error too (a port in use): refuse with what to do.
      const s = http.listen(config.port, config.host, (err?: Error) => {
        if (err) return reject(listenError(err, config.port, config.host));
        const { port } = s.address() as AddressInfo;
        log.info(
          { port, host: config.host, auth: config.apiToken ? 'bearer' : 'none (loopback only)' },
          config.apiToken
            ? 'REST API listening; bearer token required'
            : 'REST API listening on 127.0.0.1 only: set API_TOKEN to accept other hosts',
        );
        resolve({ port, host: config.host });
      });
      s.once('error', (err) => reject(listenError(err, config.port, config.host)));
      server = s;
    });
  }
}

/** Why the REST server could not listen, saying what to do about a port in use or refused. */
function listenError(err: Error, port: number, host: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return new Error(
      `port ${port} on ${host} is already in use: stop the other process or set PORT to a free port.`,
    );
  if (code === 'EACCES')
    return new Error(`port ${port} on ${host} needs privileges this user lacks: set PORT to 1024 or above.`);
  return err;
}
