import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Clock } from '../clock.js';
import { newBatchId } from '../core/batches/batch-service.js';
import { emailHash } from '../core/contacts/email-hash.js';
import { normalizeEmail } from '../core/imports/email.js';
import type { Logger } from '../logger.js';
import { type Db, migrateDb, migrationsFolder, type Sqlite } from './client.js';
import { type ContactStatus, contactStatuses } from './schema.js';

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
type LegacyRow = Record<'id' | (typeof seedColumns)[number], unknown>;
type Source = {
  id: number | null;
  email: string;
  fields: Record<(typeof textFields)[number], string | null>;
  rawStatus: string;
  known: boolean;
  status: ContactStatus;
  batchKey: string | null;
  created: number;
  updated: number;
};

const migrationsTable = '__drizzle_migrations';
const textFields = ['name', 'company', 'position', 'source'] as const;
const seedColumns = ['email', ...textFields, 'status', 'batch_id', 'created_at', 'updated_at'] as const;
const batchIdFormat = /^batch_[0-9a-f]{8}_\d{9,11}$/;
const stamp = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(:\d{2})?(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const rank = (s: ContactStatus) => contactStatuses.indexOf(s); // active < inactive < bounced < unsubscribed

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
    for (const stmt of m.sql) sqlite.exec(stmt);
    record.run(m.hash, m.folderMillis);
    applied++;
  }
  return applied;
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)).trim();
  return s === '' ? null : s;
}

/** The old TIMESTAMP text ('YYYY-MM-DD HH:MM:SS', UTC unless it says otherwise) or epoch s/ms; else the fallback. */
export function legacyTimeMs(v: unknown, fallback: number): number {
  const s = text(v);
  if (s === null) return fallback;
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n > 0 ? Math.round(n >= 1e11 ? n : n * 1000) : fallback;
  }
  const m = stamp.exec(s);
  if (!m) return fallback;
  const zone =
    !m[5] || same(m[5], 'z') ? 'Z' : m[5].includes(':') ? m[5] : `${m[5].slice(0, 3)}:${m[5].slice(3)}`;
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[3] ?? ':00'}${(m[4] ?? '').slice(0, 4)}${zone}`);
  return Number.isNaN(ms) ? fallback : ms;
}

function toSource(r: LegacyRow, now: number): Source {
  const rawStatus = text(r.status) ?? 'active'; // the old column's default
  const known = contactStatuses.find((s) => s === rawStatus.toLowerCase());
  const created = legacyTimeMs(r.created_at, now);
  return {
    id: Number.isSafeInteger(r.id) ? Number(r.id) : null,
    email: normalizeEmail(text(r.email) ?? ''),
    fields: {
      name: text(r.name),
      company: text(r.company),
      position: text(r.position),
      source: text(r.source),
    },
    rawStatus,
    known: known !== undefined,
    status: known ?? 'inactive',
    batchKey: text(r.batch_id),
    created,
    updated: legacyTimeMs(r.updated_at, created),
  };
}

/** Copies the renamed old table into coldbatch's contacts, merging case variants, then drops it. */
function moveContacts(sqlite: Sqlite, table: string, columns: Set<string>, ours: string[], now: number) {
  const pick = (c: string) => `${columns.has(c) ? q(c) : 'NULL'} AS ${c}`;
  const select = `SELECT ${['id', ...seedColumns].map(pick).join(', ')} FROM ${q(table)} ORDER BY rowid`;
  const rows = sqlite.prepare<[], LegacyRow>(select).all();
  const move: ContactsMove = {
    rowsRead: rows.length,
    contactsMoved: 0,
    duplicatesMerged: 0,
    skippedNoEmail: 0,
    unknownStatuses: 0,
    suppressed: 0,
    referencesRepointed: 0,
    batches: [],
    keptAs: null,
  };
  const groups = new Map<string, Source[]>();
  for (const s of rows.map((r) => toSource(r, now))) {
    if (!s.email) move.skippedNoEmail++;
    else groups.set(s.email, [...(groups.get(s.email) ?? []), s]);
    if (s.email && !s.known) move.unknownStatuses++;
  }
  const merged = [...groups.values()]
    .map(mergeGroup)
    .sort((a, b) => (a.c.id ?? Infinity) - (b.c.id ?? Infinity));
  move.duplicatesMerged = rows.length - move.skippedNoEmail - merged.length;
  const batchIds = insertBatches(sqlite, merged, now, move.batches);

  const addContact = sqlite.prepare(
    `INSERT INTO contacts (id, email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at)
     VALUES (@id, @email, @hash, @name, @company, @position, @source, @status, @batchId, @created, @updated)`,
  );
  const suppress = sqlite.prepare(
    `INSERT OR IGNORE INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, ?, 'system', ?)`,
  );
  const history = sqlite.prepare(
    `INSERT INTO contact_history (contact_id, from_status, to_status, actor, reason, at) VALUES (?, ?, ?, 'system', ?, ?)`,
  );
  for (const { c, keep } of merged) {
    const hash = emailHash(c.email);
    const batchId = batchIds.get(c.batchKey ?? '');
    const row = { ...c.fields, id: c.id, email: c.email, hash, status: c.status, batchId };
    const id = addContact.run({ ...row, created: c.created, updated: c.updated }).lastInsertRowid;
    if (!keep.known || keep.status !== c.status) {
      const why =
        keep.status === c.status ? 'unknown status' : 'most restrictive status of merged duplicates';
      history.run(id, keep.rawStatus, c.status, `legacy migration: ${why}`, now);
    }
    if (c.status === 'bounced' || c.status === 'unsubscribed')
      move.suppressed += suppress.run(hash, c.status, now).changes;
    move.contactsMoved++;
  }

  move.referencesRepointed = repoint(
    sqlite,
    merged.flatMap((m) => m.repoint),
    [...ours, table],
  );
  const extra = [...columns].filter((c) => c !== 'id' && !seedColumns.some((s) => s === c));
  if (extra.length > 0) move.keptAs = table;
  else sqlite.exec(`DROP TABLE ${q(table)}`);
  return move;
}

/** One person from a group of case variants: the oldest row, its empty fields filled from the others, the most restrictive status. */
function mergeGroup(group: Source[]): { c: Source; keep: Source; repoint: [number, number][] } {
  const [keep, ...rest] = group.sort(
    (a, b) => a.created - b.created || (a.id ?? Infinity) - (b.id ?? Infinity),
  );
  const c: Source = { ...keep!, fields: { ...keep!.fields } };
  for (const r of rest) {
    for (const f of textFields) c.fields[f] ??= r.fields[f];
    c.batchKey ??= r.batchKey;
    if (rank(r.status) > rank(c.status)) c.status = r.status;
    c.updated = Math.max(c.updated, r.updated);
  }
  const repoint = rest.flatMap((r): [number, number][] =>
    r.id !== null && c.id !== null ? [[r.id, c.id]] : [],
  );
  return { c, keep: keep!, repoint };
}

/** One inactive `legacy` batch per old batch_id value (rows without one share the batch named `legacy`). */
function insertBatches(sqlite: Sqlite, merged: { c: Source }[], now: number, out: LegacyBatch[]) {
  const batches = new Map<string, LegacyBatch & { created: number }>();
  for (const { c } of merged) {
    const key = c.batchKey ?? '';
    const b = batches.get(key) ?? {
      id: '',
      name: key ? `legacy ${key}` : 'legacy',
      contacts: 0,
      created: c.created,
    };
    b.contacts++;
    b.created = Math.min(b.created, c.created);
    batches.set(key, b);
  }
  const taken = sqlite.prepare<[string], { id: string }>('SELECT id FROM batches WHERE id = ?');
  const addBatch = sqlite.prepare(
    `INSERT INTO batches (id, name, source, status, created_by, created_at, contact_count)
     VALUES (?, ?, 'legacy', 'inactive', 'system', ?, ?)`,
  );
  const addEvent = sqlite.prepare(
    `INSERT INTO batch_events (batch_id, kind, actor, reason, at) VALUES (?, 'imported', 'system', 'legacy migration', ?)`,
  );
  const ids = new Map<string, string>();
  for (const [key, b] of batches) {
    // The seed's ids have coldbatch's format: an old batch keeps its id.
    const id = batchIdFormat.test(key) && !taken.get(key) ? key : newBatchId(now);
    addBatch.run(id, b.name, b.created, b.contacts);
    addEvent.run(id, now);
    ids.set(key, id);
    out.push({ id, name: b.name, contacts: b.contacts });
  }
  return ids;
}

/** Old tables that referenced a merged-away duplicate now reference the contact that was kept. */
function repoint(sqlite: Sqlite, pairs: [number, number][], skip: string[]): number {
  if (pairs.length === 0) return 0;
  const tables = sqlite
    .prepare<[], { name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
    )
    .all()
    .filter((t) => !skip.some((s) => same(s, t.name)));
  const fkList = sqlite.prepare<
    [string],
    { parent: string; col: string; target: string | null; seq: number }
  >('SELECT "table" AS parent, "from" AS col, "to" AS target, seq FROM pragma_foreign_key_list(?)');
  const refs = tables.flatMap((t) =>
    fkList
      .all(t.name)
      .filter((f) => same(f.parent, 'contacts') && f.seq === 0 && (f.target === null || same(f.target, 'id')))
      .map((f) => ({ table: t.name, col: f.col })),
  );
  if (refs.length === 0) return 0;
  sqlite.exec('CREATE TEMP TABLE coldbatch_id_map (old_id INTEGER PRIMARY KEY, new_id INTEGER NOT NULL)');
  const add = sqlite.prepare('INSERT INTO temp.coldbatch_id_map VALUES (?, ?)');
  for (const [from, to] of pairs) add.run(from, to);
  let changed = 0;
  for (const { table, col } of refs) {
    const t = q(table);
    const c = q(col);
    changed += sqlite
      .prepare(
        `UPDATE OR IGNORE ${t} SET ${c} = (SELECT new_id FROM temp.coldbatch_id_map WHERE old_id = ${t}.${c})
         WHERE ${c} IN (SELECT old_id FROM temp.coldbatch_id_map)`,
      )
      .run().changes;
  }
  sqlite.exec('DROP TABLE temp.coldbatch_id_map');
  return changed;
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
