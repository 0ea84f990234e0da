import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Stores } from './core/stores.js';
import { type Db, migrateDb, openDb } from './db/client.js';
import { needsLegacyUpgrade } from './db/legacy-upgrade.js';
import { migratePg, openPg } from './db/pg/client.js';
import { pgCluster } from './db/pg/cluster.js';
import { PgIdentityStore } from './db/pg/identity-store.js';
import { PgInstance } from './db/pg/instance.js';
import { pgStores } from './db/pg/stores.js';
import { startCheckpointer } from './db/sqlite/checkpointer.js';
import { CountThread } from './db/sqlite/count-thread.js';
import { SqliteIdentityStore } from './db/sqlite/identity-store.js';
import { sqliteStores } from './db/sqlite/stores.js';
import type { Logger } from './logger.js';
import type { IdentityStore } from './mail/index.js';
import { type Cluster, soloCluster } from './scheduler/cluster.js';

/**
 * The database an app runs on: its stores, the sending identities' state, and what runs beside
 * it (SQLite: the counting thread and the WAL checkpointer; Postgres: nothing, a pool).
 */
export type AppDatabase = {
  engine: 'sqlite' | 'postgres';
  stores: Stores;
  identityStore: IdentityStore;
  /** The other instances on the same database (SQLite: none). */
  cluster: Cluster;
  /** The SQLite handle (tests, the CLIs); null on Postgres. */
  sqlite: Db | null;
  /** After the start-up sweeps (SQLite: the WAL checkpointer). */
  started(log: Logger): Promise<void>;
  close(): Promise<void>;
};

/** SQLite at DATABASE_PATH, migrated (synchronous: buildApp). */
export function openSqliteDatabase(config: Config): AppDatabase {
  const db = openDb(config.databasePath);
  if (needsLegacyUpgrade(db)) {
    db.$client.close();
    throw new Error(
      `${config.databasePath} has the old contacts schema: run npm run migrate first (it upgrades it in place).`,
    );
  }
  migrateDb(db);
  // Audience and campaign figures are counted in one long-lived worker thread (closed on stop).
  const counts = CountThread.over(db.$client);
  let checkpoints: { stop(): Promise<void> } | undefined;
  return {
    engine: 'sqlite',
    stores: sqliteStores(db, { reportsOffThread: true, counts }),
    identityStore: new SqliteIdentityStore(db.$client),
    sqlite: db,
    cluster: soloCluster(),
    started: async (log) => {
      checkpoints ??= await startCheckpointer(db, config.databasePath, log);
    },
    close: async () => {
      await counts?.close();
      await checkpoints?.stop();
      db.$client.close();
    },
  };
}

/** Postgres at DATABASE_URL: a pool, the migrations applied under the advisory lock. */
export async function openPostgresDatabase(
  config: Config,
  url: string,
  log: Logger,
  clock: Clock,
): Promise<AppDatabase> {
  const db = openPg(url, { max: config.databasePoolMax });
  try {
    await migratePg(db);
    const identityStore = await PgIdentityStore.load(db, log, clock.now());
    // This process's membership of the cluster: what it claims is its own while it lives.
    const instance = await PgInstance.start(url, log);
    const cluster = pgCluster(db, instance, log);
    return {
      engine: 'postgres',
      stores: pgStores(db, { instance }),
      identityStore,
      sqlite: null,
      cluster,
      started: async () => {},
      close: async () => {
        await cluster.stop();
        await identityStore.flush();
        await db.$client.end();
      },
    };
  } catch (e) {
    await db.$client.end().catch(() => {});
    throw e;
  }
}
