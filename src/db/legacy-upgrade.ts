import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { type Db, migrateDb, migrationsFolder, type Sqlite, withViewsAside } from './client.js';
import { moveContacts } from './legacy-contacts.js';

export { legacyTimeMs } from './legacy-contacts.js';

export type UpgradeOptions = { clock: Clock; log?: Logger };
export type LegacyBatch = { id: string; name: string; contacts: number };
/** What happened to the old `contacts` table. */
export type ContactsMove = {
  rowsRead: number;
  contactsMoved: number;
  duplicatesMerged: number;
  skippedNoEmail: number;
  unknownStatuses: number;
  suppressed: number;
  /** Rows of the old database's other tables re-pointed from a merged duplicate to the kept contact. */
  referencesRepointed: number;
  batches: LegacyBatch[];
  /** Set when the old table had columns coldbatch does not store: it is kept under this name. */
  keptAs: string | null;
};
export type UpgradeSummary = {
  /** Nothing was changed: no migration was pending and no old-schema table was found. */
  upToDate: boolean;
  migrationsApplied: number;
  contacts: ContactsMove | null;
  /** Old tables whose names coldbatch's schema needs, renamed (their data untouched). */
  tablesMovedAside: { from: string; to: string }[];
  integrity: string;
  /** foreign_key_check rows in coldbatch's own tables (the upgrade refuses to commit any). */
  foreignKeyProblems: number;
  /** foreign_key_check rows in tables coldbatch does not own, left as they were. */
  otherForeignKeyProblems: { table: string; rows: number }[];
};

/** A refusal with a message meant for the person running `npm run migrate`; nothing was changed. */
export class UpgradeError extends Error {
  override readonly name = 'UpgradeError';
}

type Migration = ReturnType<typeof readMigrationFiles>[number];
type Plan = { contacts: string | null; columns: Set<string>; aside: string[]; dropIndexes: string[] };
type Checks = Pick<UpgradeSummary, 'integrity' | 'foreignKeyProblems' | 'otherForeignKeyProblems'>;

const migrationsTable = '__drizzle_migrations';

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Applies the migrations and upgrades a database of the seed's schema (a `contacts` table without
 * coldbatch's columns) in one transaction: contacts move into inactive `legacy` batches with
 * case-variant duplicates merged. Idempotent: a second run changes nothing.
 */
export function upgradeDatabase(db: Db, { clock, log }: UpgradeOptions): UpgradeSummary {
  const sqlite = db.$client;
  const migrations = readMigrationFiles({ migrationsFolder });
  const created = createdNames(migrations);
  const before = appliedCount(sqlite);
  // Foreign keys off (only settable outside a transaction) so that renaming the old contacts table
  // leaves the other old tables' references on `contacts`, which becomes the new table (ids kept).
  const fk = sqlite.pragma('foreign_keys', { simple: true });
  sqlite.pragma('foreign_keys = OFF');
  let result: Omit<UpgradeSummary, 'upToDate'> | null;
  try {
    result = sqlite
      .transaction(() => {
        const plan = inspect(sqlite, created);
        return plan && upgradeOld(sqlite, plan, migrations, created.tables, clock.now());
      })
      .immediate();
  } finally {
    sqlite.pragma('legacy_alter_table = OFF');
    sqlite.pragma(`foreign_keys = ${fk ? 'ON' : 'OFF'}`);
  }
  if (!result) {
    migrateDb(db);
    const migrationsApplied = appliedCount(sqlite) - before;
    const checks = runChecks(sqlite, created.tables);
    result = { migrationsApplied, contacts: null, tablesMovedAside: [], ...checks };
  }
  const upToDate = result.migrationsApplied === 0 && !result.contacts && result.tablesMovedAside.length === 0;
  const c = result.contacts;
  log?.child({ module: 'legacy-upgrade' }).info(
    {
      migrationsApplied: result.migrationsApplied,
      contactsMoved: c?.contactsMoved,
      duplicatesMerged: c?.duplicatesMerged,
      batches: c?.batches.map((b) => b.id),
      integrity: result.integrity,
    },
    upToDate ? 'database already up to date' : 'database upgraded',
  );
  return { upToDate, ...result };
}

/** True when `npm run migrate` must upgrade this database before drizzle's migrator can run on it. */
export function needsLegacyUpgrade(db: Db): boolean {
  try {
    return inspect(db.$client, createdNames(readMigrationFiles({ migrationsFolder }))) !== null;
  } catch (e) {
    if (e instanceof UpgradeError) return true;
    throw e;
  }
}

/** Names of the tables and indexes the migrations create. */
function createdNames(migrations: Migration[]): { tables: string[]; indexes: string[] } {
  const all = migrations.flatMap((m) => m.sql).join('\n');
  const names = (re: RegExp) => [...all.matchAll(re)].map((m) => m[1]!);
  return {
    tables: names(/CREATE TABLE (?:IF NOT EXISTS )?[`"]?(\w+)/gi),
    indexes: names(/CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?[`"]?(\w+)/gi),
  };
}

function appliedCount(sqlite: Sqlite): number {
  if (!findObject(sqlite, migrationsTable)) return 0;
  return sqlite.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${q(migrationsTable)}`).get()!.n;
}

function findObject(sqlite: Sqlite, name: string) {
  return sqlite
    .prepare<[string], { type: string; name: string; tbl_name: string }>(
      'SELECT type, name, tbl_name FROM sqlite_master WHERE name = ? COLLATE NOCASE',
    )
    .get(name);
}

function columnsOf(sqlite: Sqlite, table: string): Set<string> {
  const rows = sqlite.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)').all(table);
  return new Set(rows.map((r) => r.name.toLowerCase()));
}

/** What an old database needs, or null when drizzle's migrator can take it as it is. */
function inspect(sqlite: Sqlite, created: { tables: string[]; indexes: string[] }): Plan | null {
  const contacts = findObject(sqlite, 'contacts');
  const columns = contacts?.type === 'table' ? columnsOf(sqlite, contacts.name) : new Set<string>();
  if (findObject(sqlite, migrationsTable)) {
    if (contacts && !columns.has('email_hash'))
      throw new UpgradeError(
        'the contacts table lacks email_hash although migrations are recorded: not a schema this tool knows; restore a backup',
      );
    return null;
  }
  const plan: Plan = { contacts: null, columns, aside: [], dropIndexes: [] };
  if (contacts && contacts.type !== 'table')
    throw new UpgradeError(`${contacts.type} contacts is in the way`);
  if (contacts) {
    if (columns.has('email_hash'))
      throw new UpgradeError('contacts already has coldbatch columns but no migrations are recorded');
    if (!columns.has('email')) throw new UpgradeError('the old contacts table has no email column');
    plan.contacts = contacts.name;
  }
  const movedTables = [plan.contacts ?? ''];
  for (const name of created.tables.filter((n) => !same(n, 'contacts'))) {
    const o = findObject(sqlite, name);
    if (o?.type === 'table') plan.aside.push(o.name);
    else if (o) throw new UpgradeError(`${o.type} ${o.name} is in the way of coldbatch's table ${name}`);
    if (o) movedTables.push(o.name);
  }
  for (const name of created.indexes) {
    const o = findObject(sqlite, name);
    if (o?.type === 'index' && movedTables.some((t) => same(t, o.tbl_name))) plan.dropIndexes.push(o.name);
    else if (o) throw new UpgradeError(`${o.type} ${o.name} is in the way of coldbatch's index ${name}`);
  }
  return plan.contacts || plan.aside.length ? plan : null;
}

function freeName(sqlite: Sqlite, base: string): string {
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}_${i}`;
    if (!findObject(sqlite, name)) return name;
  }
}

/** The old-database path, inside the caller's transaction (foreign keys off). */
function upgradeOld(sqlite: Sqlite, plan: Plan, migrations: Migration[], ours: string[], now: number) {
  for (const name of plan.dropIndexes) sqlite.exec(`DROP INDEX ${q(name)}`);
  const tablesMovedAside = plan.aside.map((from) => {
    const to = freeName(sqlite, `legacy_${from}`);
    sqlite.exec(`ALTER TABLE ${q(from)} RENAME TO ${q(to)}`); // references follow the renamed table
    return { from, to };
  });
  let legacyTable: string | null = null;
  if (plan.contacts) {
    legacyTable = freeName(sqlite, 'legacy_contacts');
    sqlite.pragma('legacy_alter_table = ON'); // other tables keep referencing `contacts`
    sqlite.exec(`ALTER TABLE ${q(plan.contacts)} RENAME TO ${q(legacyTable)}`);
    sqlite.pragma('legacy_alter_table = OFF');
  }
  const migrationsApplied = applyMigrations(sqlite, migrations);
  const contacts = legacyTable ? moveContacts(sqlite, legacyTable, plan.columns, ours, now) : null;
  const checks = runChecks(sqlite, ours);
  if (checks.integrity !== 'ok') throw new UpgradeError(`integrity_check failed: ${checks.integrity}`);
  if (checks.foreignKeyProblems > 0)
    throw new UpgradeError(
      `foreign_key_check failed: ${checks.foreignKeyProblems} rows in coldbatch's tables`,
    );
  return { migrationsApplied, contacts, tablesMovedAside, ...checks };
}

/** drizzle's migrator without its own BEGIN/COMMIT, so it can run inside this transaction; same bookkeeping. */
function applyMigrations(sqlite: Sqlite, migrations: Migration[]): number {
  sqlite.exec(
    `CREATE TABLE IF NOT EXISTS ${q(migrationsTable)} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
  );
  const last = sqlite
    .prepare<[], { at: number }>(
      `SELECT created_at AS at FROM ${q(migrationsTable)} ORDER BY created_at DESC LIMIT 1`,
    )
    .get();
  const record = sqlite.prepare(`INSERT INTO ${q(migrationsTable)} ("hash", "created_at") VALUES (?, ?)`);
  let applied = 0;
  for (const m of migrations) {
    if (last && Number(last.at) >= m.folderMillis) continue;
    withViewsAside(sqlite, () => {
      for (const stmt of m.sql) sqlite.exec(stmt);
    });
    record.run(m.hash, m.folderMillis);
    applied++;
  }
  return applied;
}

function runChecks(sqlite: Sqlite, ours: string[]): Checks {
  const integrity = sqlite
    .prepare<[], { integrity_check: string }>('PRAGMA integrity_check(20)')
    .all()
    .map((r) => r.integrity_check)
    .join('; ');
  const rows = sqlite.prepare<[], { table: string }>('PRAGMA foreign_key_check').all();
  const other = new Map<string, number>();
  let foreignKeyProblems = 0;
  for (const r of rows) {
    if (ours.some((t) => same(t, r.table))) foreignKeyProblems++;
    else other.set(r.table, (other.get(r.table) ?? 0) + 1);
  }
  const otherForeignKeyProblems = [...other].map(([table, n]) => ({ table, rows: n }));
  return { integrity, foreignKeyProblems, otherForeignKeyProblems };
}
