import { copyFileSync, existsSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createServices } from '../core/index.js';
import { checkBackup } from '../db/backup-check.js';
import { migrateDb, openDb } from '../db/client.js';
import { sqliteStores } from '../db/sqlite/stores.js';
import { readEnv } from '../env.js';
import { createLogger } from '../logger.js';
import { createMailer } from '../mail/index.js';
import { callerPath, postgresBackupAdvice } from './cli-kit.js';

const usage = 'usage: npm run restore -- <backup.db>   (stop the app first)';

/**
 * `npm run restore -- <backup.db>`: puts a backup in place of DATABASE_PATH. The current file (and
 * its -wal/-shm) is kept beside it as `.before-restore-<time>`. Campaigns that were scheduled or
 * sending are paused: messages sent after the backup was taken are not in it, so a person checks
 * before resuming (nobody must get a campaign twice).
 */
async function main(): Promise<number> {
  const file = process.argv[2];
  if (file === '--help' || file === '-h') {
    console.log(usage);
    return 0;
  }
  if (!file) {
    console.error(usage);
    return 2;
  }
  const config = loadConfig(readEnv());
  if (config.databaseUrl) {
    console.error(postgresBackupAdvice);
    return 1;
  }
  const backup = callerPath(file); // relative to where npm was run, like npm run import
  const target = resolve(config.databasePath);
  if (backup === target) throw new Error('the backup is the live database itself.');
  const found = checkBackup(backup);
  const aside = `${target}.before-restore-${new Date(systemClock.now()).toISOString().replaceAll(':', '')}`;
  if (existsSync(target)) {
    for (const suffix of ['', '-wal', '-shm'])
      if (existsSync(target + suffix)) renameSync(target + suffix, aside + suffix);
    console.log(`The current database was moved to ${aside}.`);
  }
  copyFileSync(backup, target);
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', undefined, { format: config.logFormat, fd: 2 });
  const db = openDb(target);
  try {
    migrateDb(db);
    const services = createServices(
      { log, clock: systemClock },
      sqliteStores(db),
      config,
      createMailer({ outboxDir: config.mail.outboxDir, log }),
    );
    const paused: string[] = [];
    for (const status of ['sending', 'scheduled'] as const) {
      // Each pass pauses what it lists, so the next pass lists the rest.
      for (
        let page = await services.campaigns.list({ status });
        page.campaigns.length > 0;
        page = await services.campaigns.list({ status })
      ) {
        for (const c of page.campaigns) {
          await services.campaigns.pause(
            c.id,
            'restore',
            'restored from a backup: check who already received it before resuming',
          );
          paused.push(c.id);
        }
      }
    }
    console.log(
      `Restored ${backup} (${found.batches} batches, ${found.contacts} contacts) into ${target}.` +
        (paused.length
          ? ` Paused ${paused.length} campaign(s) that were scheduled or sending (${paused.join(', ')}): ` +
            'messages sent after the backup are not in it; resume them once checked.'
          : ''),
    );
    console.log('Start the app again (npm start).');
    return 0;
  } finally {
    db.$client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(
      e instanceof ConfigError ? e.message : `Restore failed: ${e instanceof Error ? e.message : String(e)}`,
    );
    process.exit(1);
  },
);
