/**
 * `npm run db:copy`: the SQLite database at DATABASE_PATH into an empty Postgres, every row of
 * every table with its ids and timestamps (the stored unsubscribe key too, so old unsubscribe
 * links keep working), in one Postgres transaction: all of it is there, or none of it.
 */
import type pg from 'pg';
import { type CopyPlan, type CopyTable, copyPlan } from './copy-plan.js';
import { type ChunkLimits, CopyRefusal, openSqliteSnapshot, type SqliteSnapshot } from './copy-source.js';
import { inTransaction, migratePg, type PgDb } from './pg/client.js';

export { CopyRefusal } from './copy-source.js';

/** One table's rows on both sides after the copy. */
export type TableCount = { table: string; sqlite: number; postgres: number; ms: number };

export type CopyReport = {
  tables: TableCount[];
  /** Every table has as many rows in Postgres as in the SQLite snapshot. */
  matches: boolean;
  /** The copy was committed (false: the counts differed and it was rolled back, nothing kept). */
  committed: boolean;
  rows: number;
  ms: number;
};

export type CopyOptions = {
  sqlitePath: string;
  pg: PgDb;
  /** Rows per INSERT (and at most that many held at once); a chunk also ends at `chunkBytes`. */
  chunkRows?: number;
  chunkBytes?: number;
  /** Told as each table is done (the CLI's progress). */
  onTable?: (table: string, rows: number) => void;
};

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The counts differed after the copy: thrown to roll the transaction back, carrying the report. */
class Mismatch extends Error {
  constructor(readonly tables: TableCount[]) {
    super('row counts differ');
  }
}

/** Refuses (rolling back, nothing written) a target where any coldbatch table has a row. */
async function requireEmpty(tx: pg.PoolClient, plan: CopyPlan): Promise<void> {
  const names = [...plan.tables.map((t) => t.name), ...plan.postgresOnly];
  // Nothing else writes these tables until the commit (an app started against the target waits),
  // so "empty" stays true while the copy fills them.
  await tx.query(`LOCK TABLE ${names.map(q).join(', ')} IN EXCLUSIVE MODE`);
  const full: string[] = [];
  for (const name of names) {
    const { rows } = await tx.query<{ n: number }>(`SELECT count(*) AS n FROM ${q(name)}`);
    const n = rows[0]?.n ?? 0;
    if (n > 0) full.push(`${name} has ${n} row${n === 1 ? '' : 's'}`);
  }
  if (full.length > 0)
    throw new CopyRefusal(
      `The target Postgres database is not empty: ${full.join(', ')}. db:copy only fills an empty ` +
        'database: point --to at a new one (createdb coldbatch2) and run it again. Nothing was changed.',
    );
}

/** Copies one table, chunk by chunk (one INSERT … SELECT FROM unnest(…) each); its row count. */
async function copyTable(
  tx: pg.PoolClient,
  snapshot: SqliteSnapshot,
  table: CopyTable,
  limits: ChunkLimits,
): Promise<number> {
  const names = table.columns.map((c) => q(c.name)).join(', ');
  const arrays = table.columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const text = `INSERT INTO ${q(table.name)} (${names}) SELECT * FROM unnest(${arrays})`;
  let copied = 0;
  for (const chunk of snapshot.chunks(table, limits)) {
    // Named: parsed and planned once per table, then only the arrays travel.
    await tx.query({ name: `db_copy_${table.name}`, text, values: chunk.columns });
    copied += chunk.rows;
  }
  return copied;
}

/**
 * Points each identity sequence past the highest id SQLite ever gave (its max(id), or the
 * AUTOINCREMENT counter when rows with higher ids were deleted), so new rows never take an old
 * id: a send's id is in the unsubscribe links and Message-IDs already sent.
 */
async function resetSequences(tx: pg.PoolClient, plan: CopyTable[], snapshot: SqliteSnapshot): Promise<void> {
  for (const t of plan) {
    if (!t.identity) continue;
    await tx.query(
      `SELECT setval(pg_get_serial_sequence($1, $2),
                     GREATEST((SELECT coalesce(max(${q(t.identity)}), 0) FROM ${q(t.name)}), $3::bigint) + 1, false)`,
      [q(t.name), t.identity, snapshot.sequences.get(t.name) ?? 0],
    );
  }
}

/**
 * Copies the SQLite database at `sqlitePath` (read-only; it may be the live one: one read
 * transaction is a consistent snapshot) into the Postgres `pg`, which is migrated first and must
 * be empty. Tables go in foreign-key order, in chunks (a million contacts are never in memory at
 * once), in one transaction; then the identity sequences are reset and the row counts of every
 * table compared. Refusals (CopyRefusal) change nothing but the migrations.
 */
export async function copySqliteToPg(options: CopyOptions): Promise<CopyReport> {
  const started = Date.now();
  const plan = copyPlan();
  const tables = plan.tables;
  const limits: ChunkLimits = {
    rows: Math.max(1, options.chunkRows ?? 5000),
    bytes: Math.max(1, options.chunkBytes ?? 8 * 2 ** 20),
  };
  const snapshot = openSqliteSnapshot(options.sqlitePath, tables);
  try {
    await migratePg(options.pg);
    let counts: TableCount[];
    try {
      counts = await inTransaction(options.pg.$client, async (tx) => {
        await requireEmpty(tx, plan);
        const timings = new Map<string, number>();
        for (const t of tables) {
          const at = Date.now();
          const n = await copyTable(tx, snapshot, t, limits);
          timings.set(t.name, Date.now() - at);
          options.onTable?.(t.name, n);
        }
        await resetSequences(tx, tables, snapshot);
        const counted: TableCount[] = [];
        for (const t of tables) {
          const { rows } = await tx.query<{ n: number }>(`SELECT count(*) AS n FROM ${q(t.name)}`);
          counted.push({
            table: t.name,
            sqlite: snapshot.counts.get(t.name) ?? 0,
            postgres: rows[0]?.n ?? 0,
            ms: timings.get(t.name) ?? 0,
          });
        }
        if (counted.some((c) => c.sqlite !== c.postgres)) throw new Mismatch(counted);
        return counted;
      });
    } catch (e) {
      if (!(e instanceof Mismatch)) throw e;
      return { tables: e.tables, matches: false, committed: false, rows: 0, ms: Date.now() - started };
    }
    // Fresh statistics for the planner: the app's first queries run on a million new rows.
    await options.pg.$client.query(`ANALYZE ${tables.map((t) => q(t.name)).join(', ')}`);
    return {
      tables: counts,
      matches: true,
      committed: true,
      rows: counts.reduce((sum, t) => sum + t.postgres, 0),
      ms: Date.now() - started,
    };
  } finally {
    snapshot.close();
  }
}
