import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { emailHash } from '../core/contacts/email-hash.js';
import { normalizeEmail } from '../core/imports/email.js';
import { type Db, migrateDb, type Sqlite } from './client.js';

export type UpgradeSummary = {
  legacyFound: boolean;
  contactsRead: number;
  contactsMoved: number;
  duplicatesMerged: number;
  skippedNoEmail: number;
  unknownStatuses: number;
  suppressed: number;
  batches: { id: string; name: string; contacts: number }[];
  integrity: string;
  foreignKeyProblems: number;
};

type LegacyRow = {
  id: number;
  email: string | null;
  name: string | null;
  company: string | null;
  position: string | null;
  source: string | null;
  status: string | null;
  batch_id: string | null;
  created_at: string | number | null;
  updated_at: string | number | null;
};

const statusRank: Record<string, number> = { unsubscribed: 3, bounced: 2, inactive: 1, active: 0 };
type Status = 'active' | 'inactive' | 'bounced' | 'unsubscribed';

/** A `contacts` table from the old Python tool: no email_hash column and no drizzle bookkeeping. */
function hasLegacyContacts(sqlite: Sqlite): boolean {
  const table = sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contacts'`)
    .get();
  if (!table) return false;
  const cols = sqlite.prepare(`PRAGMA table_info(contacts)`).all() as { name: string }[];
  return !cols.some((c) => c.name === 'email_hash');
}

function parseTime(v: string | number | null, fallback: number): number {
  if (typeof v === 'number') return v > 1e12 ? v : v * 1000;
  if (!v) return fallback;
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?/.test(v) ? `${v.replace(' ', 'T')}Z` : v;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? fallback : t;
}

const clean = (v: string | null) => (v && v.trim() !== '' ? v.trim() : null);

/**
 * Upgrades a database of the seed's schema in place (idempotent): applies the migrations, moves
 * old contacts into `legacy` batches (one per old batch_id, the rest in one), merges case-variant
 * duplicates, suppresses bounced and unsubscribed addresses, then checks integrity.
 */
export function upgradeDatabase(db: Db, clock: Clock): UpgradeSummary {
  const sqlite = db.$client;
  const summary: UpgradeSummary = {
    legacyFound: false,
    contactsRead: 0,
    contactsMoved: 0,
    duplicatesMerged: 0,
    skippedNoEmail: 0,
    unknownStatuses: 0,
    suppressed: 0,
    batches: [],
    integrity: '',
    foreignKeyProblems: 0,
  };
  // A run stopped after the rename left legacy_contacts behind: this run finishes the move.
  const leftover = sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'legacy_contacts'`)
    .get();
  const legacy = hasLegacyContacts(sqlite) || leftover !== undefined;
  if (legacy && !leftover) sqlite.exec('ALTER TABLE contacts RENAME TO legacy_contacts');
  migrateDb(db);
  if (legacy) {
    summary.legacyFound = true;
    sqlite.transaction(() => moveLegacy(sqlite, clock.now(), summary))();
  }
  summary.integrity = String(sqlite.pragma('integrity_check', { simple: true }));
  summary.foreignKeyProblems = (sqlite.pragma('foreign_key_check') as unknown[]).length;
  return summary;
}

function moveLegacy(sqlite: Sqlite, now: number, summary: UpgradeSummary): void {
  const cols = new Set(
    (sqlite.prepare(`PRAGMA table_info(legacy_contacts)`).all() as { name: string }[]).map((c) => c.name),
  );
  const pick = (c: string) => (cols.has(c) ? c : `NULL AS ${c}`);
  const rows = sqlite
    .prepare(
      `SELECT id, ${['email', 'name', 'company', 'position', 'source', 'status', 'batch_id', 'created_at', 'updated_at'].map(pick).join(', ')}
       FROM legacy_contacts ORDER BY id`,
    )
    .all() as LegacyRow[];
  summary.contactsRead = rows.length;

  // Merge by normalized address: the oldest row wins, empty fields filled from the others, the most restrictive status.
  const merged = new Map<string, LegacyRow & { createdMs: number; updatedMs: number; status: Status }>();
  for (const r of rows) {
    const email = normalizeEmail(r.email ?? '');
    if (!email) {
      summary.skippedNoEmail++;
      continue;
    }
    let status = (r.status ?? 'active').trim().toLowerCase();
    if (!(status in statusRank)) {
      summary.unknownStatuses++;
      status = 'inactive';
    }
    const createdMs = parseTime(r.created_at, now);
    const updatedMs = parseTime(r.updated_at, createdMs);
    const prev = merged.get(email);
    if (!prev) {
      merged.set(email, { ...r, email, createdMs, updatedMs, status: status as Status });
      continue;
    }
    summary.duplicatesMerged++;
    prev.name = clean(prev.name) ?? clean(r.name);
    prev.company = clean(prev.company) ?? clean(r.company);
    prev.position = clean(prev.position) ?? clean(r.position);
    prev.source = clean(prev.source) ?? clean(r.source);
    prev.batch_id = prev.batch_id ?? r.batch_id;
    if ((statusRank[status] ?? 0) > statusRank[prev.status]!) prev.status = status as Status;
    prev.updatedMs = Math.max(prev.updatedMs, updatedMs);
  }

  const batchIds = new Map<string, string>();
  const batchFor = (old: string | null) => {
    const key = old?.trim() || '';
    let id = batchIds.get(key);
    if (!id) {
      id = `batch_${randomBytes(4).toString('hex')}_${Math.floor(now / 1000)}`;
      const name = key ? `legacy ${key}` : 'legacy';
      sqlite
        .prepare(
          `INSERT INTO batches (id, name, source, status, created_by, created_at) VALUES (?, ?, 'legacy', 'inactive', 'system', ?)`,
        )
        .run(id, name, now);
      batchIds.set(key, id);
      summary.batches.push({ id, name, contacts: 0 });
    }
    return id;
  };
  const insert = sqlite.prepare(
    `INSERT INTO contacts (email, email_hash, name, company, position, source, status, batch_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const suppress = sqlite.prepare(
    `INSERT OR IGNORE INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, ?, 'system', ?)`,
  );
  for (const c of merged.values()) {
    const batchId = batchFor(c.batch_id);
    const hash = emailHash(c.email!);
    insert.run(
      c.email,
      hash,
      clean(c.name),
      clean(c.company),
      clean(c.position),
      clean(c.source),
      c.status,
      batchId,
      c.createdMs,
      c.updatedMs,
    );
    if (c.status === 'bounced' || c.status === 'unsubscribed') {
      summary.suppressed += suppress.run(hash, c.status, now).changes;
    }
    summary.contactsMoved++;
    const b = summary.batches.find((x) => x.id === batchId)!;
    b.contacts++;
  }
  for (const b of summary.batches) {
    sqlite.prepare(`UPDATE batches SET contact_count = ? WHERE id = ?`).run(b.contacts, b.id);
    sqlite
      .prepare(
        `INSERT INTO batch_events (batch_id, kind, actor, reason, at) VALUES (?, 'imported', 'system', ?, ?)`,
      )
      .run(b.id, `legacy migration: ${b.contacts} contacts`, now);
  }
  sqlite.exec('DROP TABLE legacy_contacts');
}
