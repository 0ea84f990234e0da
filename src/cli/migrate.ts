import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { openDb } from '../db/client.js';
import { type UpgradeSummary, upgradeDatabase } from '../db/legacy-upgrade.js';
import { migratePg, openPg } from '../db/pg/client.js';
import { readEnv } from '../env.js';
import { createLogger } from '../logger.js';
import { parseCommandLine, runCli } from './cli-kit.js';

/** The lines `npm run migrate` prints for a summary. */
function describeUpgrade(s: UpgradeSummary): string[] {
  if (s.upToDate) return ['Database already up to date, nothing changed.', checksLine(s)];
  const lines = [
    s.migrationsApplied ? `Applied ${s.migrationsApplied} migrations.` : 'No migration pending.',
  ];
  for (const t of s.tablesMovedAside)
    lines.push(`Old table ${t.from} kept, renamed ${t.to} (coldbatch has its own ${t.from} table).`);
  const c = s.contacts;
  if (c) {
    lines.push(
      `Old contacts table upgraded: ${c.rowsRead} rows read, ${c.contactsMoved} contacts moved, ` +
        `${c.duplicatesMerged} duplicates merged (case variants included), ${c.skippedNoEmail} rows without e-mail skipped, ` +
        `${c.unknownStatuses} unknown statuses set to inactive, ${c.suppressed} bounced/unsubscribed addresses suppressed.`,
    );
    if (c.referencesRepointed)
      lines.push(`${c.referencesRepointed} rows of other old tables now point to the merged contact.`);
    if (c.keptAs)
      lines.push(`The old table is kept as ${c.keptAs}: it has columns coldbatch does not store.`);
    for (const b of c.batches) {
      lines.push(
        `Batch ${b.id} (${b.name}): ${b.contacts} contacts, inactive, so no campaign mails them until you activate it ` +
          `(/batches activate ${b.id} in Slack, or POST /contacts/batches/${b.id}/activate).`,
      );
    }
  }
  return [...lines, checksLine(s)];
}

function checksLine(s: UpgradeSummary): string {
  const other = s.otherForeignKeyProblems.map((o) => `${o.table}: ${o.rows}`).join(', ');
  return (
    `integrity_check: ${s.integrity}; foreign_key_check: ${s.foreignKeyProblems} problems` +
    (other ? ` (and in old tables coldbatch does not use, left as they were: ${other}).` : '.')
  );
}

/** On Postgres: the migrations of drizzle/pg under the advisory lock (there is no old schema to upgrade). */
async function migratePostgres(url: string): Promise<number> {
  const db = openPg(url, { max: 1 });
  try {
    await migratePg(db);
    const u = new URL(url);
    console.log(`Database: postgres://${u.host}${u.pathname}`);
    console.log('Migrations applied (Postgres).');
    return 0;
  } finally {
    await db.$client.end();
  }
}

async function main(): Promise<number> {
  const config = loadConfig(readEnv());
  if (config.databaseUrl) return migratePostgres(config.databaseUrl);
  const db = openDb(config.databasePath);
  try {
    const summary = upgradeDatabase(db, {
      clock: systemClock,
      log: createLogger(process.env.LOG_LEVEL ?? 'warn', undefined, { format: config.logFormat, fd: 2 }),
    });
    console.log(`Database: ${config.databasePath}`);
    for (const line of describeUpgrade(summary)) console.log(line);
    if (summary.integrity !== 'ok' || summary.foreignKeyProblems > 0) {
      console.error(
        `Database check failed: integrity_check ${summary.integrity}, ${summary.foreignKeyProblems} foreign key problems.`,
      );
      return 1;
    }
    return 0;
  } finally {
    db.$client.close();
  }
}

const usage = `Usage: npm run migrate

Applies pending migrations to DATABASE_PATH and upgrades a database of the old schema in place
(contacts without batch_id), then runs integrity_check and foreign_key_check. Running it twice
changes nothing the second time. Exit codes: 0 ok, 1 failed, 2 bad input.`;

runCli('npm run migrate', usage, async () => {
  parseCommandLine({ options: {} });
  try {
    return await main();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    console.error(
      `npm run migrate failed, nothing was changed: ${e instanceof Error ? e.message : String(e)}`,
    );
    return 1;
  }
});
