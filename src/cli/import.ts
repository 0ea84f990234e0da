import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { mailerOptions } from '../app.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createServices } from '../core/index.js';
import { migrateDb, openDb } from '../db/client.js';
import { readEnv } from '../env.js';
import { isDomainError, storageError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createMailer } from '../mail/index.js';

const usage = 'usage: npm run import -- <file.csv> [--name NAME] [--no-activate] [--force]';

/** `npm run import -- file.csv`: the same import engine as Slack and REST, from a shell. */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'no-activate': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
  });
  const file = positionals[0];
  if (!file) {
    console.error(usage);
    return 2;
  }
  const config = loadConfig(readEnv());
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  let db: ReturnType<typeof openDb>;
  try {
    db = openDb(config.databasePath);
    migrateDb(db);
  } catch (e) {
    throw storageError(e, config.databasePath) ?? e;
  }
  const mailer = createMailer({ ...mailerOptions(config), log });
  const services = createServices({ db, log, clock: systemClock }, config, mailer);
  services.imports.sweepInterrupted();
  try {
    const result = await services.imports.importFile({
      source: createReadStream(file),
      fileName: basename(file),
      origin: 'cli',
      actor: 'cli',
      options: { name: values.name, activate: !values['no-activate'], force: values.force },
    });
    const r = result.report;
    console.log(
      `Imported ${r.imported} contacts into ${result.batch.id} (${result.batch.status}) from ${r.rows} rows: ` +
        `${r.invalid} invalid, ${r.duplicateInFile} repeated in the file, ${r.existing} already known, ${r.suppressed} suppressed.` +
        (result.replaced ? ` ${result.replaced.id} is no longer active.` : ''),
    );
    if (config.validation.onImport) {
      console.log('Checking the addresses (Ctrl-C leaves the rest to the next start of the app)...');
      await services.validation.idle();
      const v = services.validation.counts(result.batch.id);
      console.log(
        `Validation: ${v.valid} valid, ${v.role} role, ${v.disposable} disposable, ${v.no_mail_domain} without a mail domain (not mailed), ` +
          `${v.unknown} unknown (DNS did not answer), ${v.unchecked} not checked.`,
      );
    }
    return 0;
  } catch (thrown) {
    const e = storageError(thrown) ?? thrown;
    if (isDomainError(e)) {
      console.error(`Import refused (${e.code}): ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await services.validation.stop();
    await mailer.close();
    db.$client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (thrown: unknown) => {
    const e = storageError(thrown) ?? thrown;
    console.error(e instanceof ConfigError || isDomainError(e) ? e.message : `Import failed: ${String(e)}`);
    process.exit(1);
  },
);
