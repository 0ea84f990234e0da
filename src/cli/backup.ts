import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { BackupService } from '../core/backup/backup-service.js';
import { readEnv } from '../env.js';
import { createLogger } from '../logger.js';

/** `npm run backup`: one online backup now, the same as the nightly job (safe while the app runs). */
async function main(): Promise<number> {
  const config = loadConfig(readEnv());
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', undefined, { format: config.logFormat, fd: 2 });
  const service = new BackupService(
    { log, clock: systemClock },
    { databasePath: config.databasePath, ...config.backup },
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

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(
      e instanceof ConfigError ? e.message : `Backup failed: ${e instanceof Error ? e.message : String(e)}`,
    );
    process.exit(1);
  },
);
