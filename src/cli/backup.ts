import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { BackupService } from '../core/backup/backup-service.js';
import { SqliteBackupStore } from '../db/sqlite/backup-store.js';
import { readEnv } from '../env.js';
import { createLogger } from '../logger.js';
import { parseCommandLine, postgresBackupAdvice, runCli } from './cli-kit.js';

/** `npm run backup`: one online backup now, the same as the nightly job (safe while the app runs). */
async function main(): Promise<number> {
  const config = loadConfig(readEnv());
  if (config.databaseUrl) {
    console.error(postgresBackupAdvice);
    return 1;
  }
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', undefined, { format: config.logFormat, fd: 2 });
  // No connection of its own: the copy is taken from the file by a worker thread.
  const service = new BackupService(
    { log, clock: systemClock },
    config.backup,
    new SqliteBackupStore(config.databasePath),
  );
  const b = await service.run('manual');
  console.log(
    `Backup written: ${b.file} (${(b.bytes / 2 ** 20).toFixed(1)} MB, ${b.batches} batches, ${b.contacts} contacts, ` +
      `integrity_check ok, ${b.durationMs} ms).` +
      (b.removed.length
        ? ` Removed ${b.removed.length} older backup(s), keeping ${config.backup.keep}.`
        : ''),
  );
  return 0;
}

const usage = `Usage: npm run backup

Takes one online backup of DATABASE_PATH into BACKUP_DIR now (safe while the app runs), checks it
with integrity_check and keeps the newest BACKUP_KEEP. Exit codes: 0 ok, 1 failed, 2 bad input.`;

runCli('Backup', usage, async () => {
  parseCommandLine({ options: {} });
  return main();
});
