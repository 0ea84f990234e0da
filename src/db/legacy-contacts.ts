import { batchIdPattern, emailHash, newBatchId, normalizeEmail } from '../core/keys.js';
import { type ContactStatus, contactStatuses } from '../core/vocabulary.js';
import type { Sqlite } from './client.js';
import type { ContactsMove, LegacyBatch } from './legacy-upgrade.js';

/** Moving the old `contacts` table's people into coldbatch's tables (part of `npm run migrate`). */

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

const textFields = ['name', 'company', 'position', 'source'] as const;
const seedColumns = ['email', ...textFields, 'status', 'batch_id', 'created_at', 'updated_at'] as const;
const stamp = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(:\d{2})?(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
// active < inactive < replied < bounced < unsubscribed < complained (the vocabulary's order)
const rank = (s: ContactStatus) => contactStatuses.indexOf(s);
/** Statuses whose address goes on the suppression list (with the status as the reason). */
const suppressing = (s: ContactStatus): s is 'bounced' | 'unsubscribed' | 'complained' =>
  s === 'bounced' || s === 'unsubscribed' || s === 'complained';
const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

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
export function moveContacts(
  sqlite: Sqlite,
  table: string,
  columns: Set<string>,
  ours: string[],
  now: number,
) {
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
    if (suppressing(c.status)) move.suppressed += suppress.run(hash, c.status, now).changes;
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
    const id = batchIdPattern.test(key) && !taken.get(key) ? key : newBatchId(now);
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
