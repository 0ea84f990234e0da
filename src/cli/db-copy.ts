import { loadConfig } from '../config.js';
import { describePgUrl, isPostgresUrl, reachPostgres } from '../db/copy-target.js';
import { CopyRefusal, copySqliteToPg } from '../db/copy-to-pg.js';
import { openPg } from '../db/pg/client.js';
import { readEnv } from '../env.js';
import { parseCommandLine, runCli, table, UsageError } from './cli-kit.js';

const usage = `Usage: npm run db:copy -- --to postgres://user:password@host:5432/database

Copies the SQLite database at DATABASE_PATH into an empty Postgres database: every row of every
table with its ids and timestamps, and the stored unsubscribe key (old unsubscribe links keep
working). The SQLite file is only read (a consistent snapshot, even while the app runs); the
Postgres database is migrated first and must have no coldbatch rows (otherwise nothing is
changed). The copy is one transaction: all of it, or nothing. Then it compares the row count of
every table on both sides. Exit codes: 0 copied and every count matches, 1 refused or failed,
2 bad input.`;

const n = (v: number) => v.toLocaleString('en-US');

async function main(): Promise<number> {
  // Positionals are taken only to refuse them here: Node's own message would echo a URL's password.
  const { values, positionals } = parseCommandLine({
    allowPositionals: true,
    options: { to: { type: 'string' } },
  });
  if (positionals.length > 0) throw new UsageError('Give the Postgres URL with --to; nothing else is taken.');
  const to = values.to?.trim();
  if (!to) throw new UsageError('--to is missing: give the Postgres database to copy into.');
  if (!isPostgresUrl(to))
    throw new UsageError(
      `--to must be a Postgres URL like postgres://user:password@host:5432/database (got ${JSON.stringify(to.replace(/\/\/[^@/]*@/, '//…@'))}).`,
    );
  const { databasePath } = loadConfig(readEnv());
  const target = describePgUrl(to);
  try {
    await reachPostgres(to);
    const db = openPg(to, { max: 1 });
    try {
      console.log(`Copying ${databasePath} into ${target} …`);
      const report = await copySqliteToPg({ sqlitePath: databasePath, pg: db });
      console.log(
        table([
          ['table', 'sqlite', 'postgres', '', 'time'],
          ...report.tables.map((t) => [
            t.table,
            n(t.sqlite),
            n(t.postgres),
            t.sqlite === t.postgres ? 'ok' : 'DIFFERENT',
            `${(t.ms / 1000).toFixed(1)} s`,
          ]),
        ]),
      );
      if (!report.matches) {
        const off = report.tables.filter((t) => t.sqlite !== t.postgres).map((t) => t.table);
        console.error(
          `Row counts differ in ${off.join(', ')}: the copy was rolled back, ${target} is as it was. Run it again.`,
        );
        return 1;
      }
      console.log(
        `All ${report.tables.length} tables match (${n(report.rows)} rows copied in ${(report.ms / 1000).toFixed(1)} s). ` +
          `Start the app with DATABASE_URL set to this database; the SQLite file was not changed.`,
      );
      return 0;
    } finally {
      await db.$client.end();
    }
  } catch (e) {
    if (e instanceof CopyRefusal) {
      console.error(e.message);
      return 1;
    }
    // The copy is one transaction: a failure half-way leaves no coldbatch row behind.
    console.error(
      `npm run db:copy failed, nothing was copied into ${target}: ${e instanceof Error ? e.message : String(e)}`,
    );
    return 1;
  }
}

runCli('npm run db:copy', usage, main);
