import { createReadStream, existsSync } from 'node:fs';
import { basename } from 'node:path';
import { callerPath, cliActor, openCore, parseCommandLine, runCli, UsageError } from './cli-kit.js';

const usage = `Usage: npm run import -- <file.csv> [--name NAME] [--no-activate] [--force]

Imports a CSV of contacts into a new batch, with the same engine as Slack and the REST API.
A relative path is read from the directory you run the command in.

  --name NAME      the batch's name (default: the file name)
  --no-activate    keep the new batch inactive (the active batch stays active)
  --force          import even if this exact file was imported before
  -h, --help       show this help`;

/** `npm run import -- file.csv`: the same import engine as Slack and REST, from a shell. */
async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'no-activate': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
  });
  const [file, ...extra] = positionals;
  if (!file) throw new UsageError('Give the CSV file to import.');
  if (extra.length > 0) throw new UsageError(`One file at a time (also got: ${extra.join(' ')}).`);
  const path = callerPath(file);
  if (!existsSync(path)) throw new UsageError(`No file at ${path}.`);
  const core = await openCore();
  const { services, config } = core;
  await services.imports.sweepInterrupted();
  try {
    const result = await services.imports.importFile({
      source: createReadStream(path),
      fileName: basename(path),
      origin: 'cli',
      actor: cliActor,
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
      const v = await services.validation.counts(result.batch.id);
      console.log(
        `Validation: ${v.valid} valid, ${v.role} role, ${v.disposable} disposable, ${v.no_mail_domain} without a mail domain (not mailed), ` +
          `${v.unknown} unknown (DNS did not answer), ${v.unchecked} not checked.`,
      );
      const failure = (await services.validation.summary(result.batch.id)).failure;
      if (failure) console.log(`Validation stopped: ${failure.message}`);
    }
    return 0;
  } finally {
    await core.close();
  }
}

runCli('Import', usage, main);
