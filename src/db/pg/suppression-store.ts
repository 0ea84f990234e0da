import type {
  BounceChange,
  BounceRecord,
  DomainRuleRow,
  SuppressionRow,
  SuppressionStore,
} from '../../core/suppression/suppression-store.js';
import type { SuppressionReason } from '../../core/vocabulary.js';
import { inTransaction, type PgDb, row, rows } from './client.js';
import { applyHardBounce } from './hard-bounce-rows.js';
import { stopSequences } from './sequence-rows.js';

type RuleRow = { pattern: string; actor: string; reason: string | null; created_at: number };
const toRule = (r: RuleRow): DomainRuleRow => ({
  pattern: r.pattern,
  actor: r.actor,
  reason: r.reason,
  createdAt: r.created_at,
});

/** LIKE patterns (no `%`/`_` can occur in a valid domain) for the addresses a rule covers. */
function likePatterns(pattern: string): [string, string] {
  if (pattern.startsWith('*.')) {
    const base = pattern.slice(2);
    return [`%@${base}`, `%@%.${base}`];
  }
  return [`%@${pattern}`, `%@${pattern}`];
}

/**
 * SQLite's `LIKE` as Postgres says it: case-insensitive (ILIKE) and with no escape character
 * (SQLite's LIKE has none unless asked; Postgres's LIKE takes `\` as one by default).
 */
const like = (column: string, n: number) => `${column} ILIKE $${n} ESCAPE ''`;

/** The suppression list and the domain rules over Postgres. */
export class PgSuppressionStore implements SuppressionStore {
  constructor(private readonly db: PgDb) {}

  async recordHardBounce(b: BounceRecord, change: BounceChange): Promise<void> {
    await inTransaction(this.db.$client, (tx) => applyHardBounce(tx, b, change));
  }

  async isSuppressed(hash: Buffer): Promise<boolean> {
    const found = await row(this.db.$client, 'SELECT 1 AS one FROM suppressions WHERE email_hash = $1', [
      hash,
    ]);
    return found !== undefined;
  }

  /**
   * The list in the order entries were added, after the entry `afterId` (SQLite's rowid cursor):
   * here the `id` identity column, read through its index, so a page costs the same wherever it
   * is in a long list.
   */
  async listPage(afterId: number, limit: number): Promise<SuppressionRow[]> {
    const found = await rows<{
      id: number;
      hash: string;
      reason: SuppressionReason;
      actor: string;
      created_at: number;
    }>(
      this.db.$client,
      `SELECT id, encode(email_hash, 'hex') AS hash, reason, actor, created_at FROM suppressions
       WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return found.map((r) => ({
      id: r.id,
      hashHex: r.hash,
      reason: r.reason,
      actor: r.actor,
      createdAt: r.created_at,
    }));
  }

  async addDomainRule(
    rule: DomainRuleRow,
  ): Promise<{ rule: DomainRuleRow; suppressedContacts: number } | null> {
    const [a, b] = likePatterns(rule.pattern);
    return inTransaction(this.db.$client, async (tx) => {
      // A rule added at the same moment by another instance: this insert waits for its commit on
      // the primary key, then does nothing, so exactly one of the two adds the rule.
      const added = await row<RuleRow>(
        tx,
        `INSERT INTO domain_suppressions (pattern, actor, reason, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (pattern) DO NOTHING RETURNING pattern, actor, reason, created_at`,
        [rule.pattern, rule.actor, rule.reason, rule.createdAt],
      );
      if (!added) return null;
      // One statement over the whole contacts table: no addresses pass through JS, and an
      // already-suppressed address keeps its first reason.
      const suppressed = await tx.query(
        `INSERT INTO suppressions (email_hash, reason, actor, created_at)
         SELECT email_hash, 'manual', $1, $2 FROM contacts WHERE ${like('email', 3)} OR ${like('email', 4)}
         ON CONFLICT (email_hash) DO NOTHING`,
        [rule.actor, rule.createdAt, a, b],
      );
      await stopSequences(tx, { emailLike: [a, b] }, 'left_audience', rule.createdAt);
      return { rule: toRule(added), suppressedContacts: suppressed.rowCount ?? 0 };
    });
  }

  async removeDomainRule(pattern: string): Promise<DomainRuleRow | null> {
    const removed = await row<RuleRow>(
      this.db.$client,
      'DELETE FROM domain_suppressions WHERE pattern = $1 RETURNING pattern, actor, reason, created_at',
      [pattern],
    );
    return removed ? toRule(removed) : null;
  }

  async listDomainRules(): Promise<DomainRuleRow[]> {
    const found = await rows<RuleRow>(
      this.db.$client,
      // Byte order, as SQLite sorts text.
      'SELECT pattern, actor, reason, created_at FROM domain_suppressions ORDER BY pattern COLLATE "C"',
    );
    return found.map(toRule);
  }
}
