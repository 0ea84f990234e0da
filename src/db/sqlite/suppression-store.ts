import type {
  BounceChange,
  BounceRecord,
  DomainRuleRow,
  SuppressionRow,
  SuppressionStore,
} from '../../core/suppression/suppression-store.js';
import type { SuppressionReason } from '../../core/vocabulary.js';
import type { Db } from '../client.js';
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

/** The suppression list and the domain rules over SQLite: statements prepared once. */
export class SqliteSuppressionStore implements SuppressionStore {
  private readonly s;
  constructor(private readonly db: Db) {
    const c = db.$client;
    this.s = {
      isSuppressed: c.prepare<[Buffer], { one: number }>(
        `SELECT 1 AS one FROM suppressions WHERE email_hash = ?`,
      ),
      page: c.prepare<
        [number, number],
        { id: number; hash: string; reason: SuppressionReason; actor: string; created_at: number }
      >(
        `SELECT rowid AS id, lower(hex(email_hash)) AS hash, reason, actor, created_at FROM suppressions
         WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      insertRule: c.prepare<[string, string, string | null, number]>(
        `INSERT INTO domain_suppressions (pattern, actor, reason, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(pattern) DO NOTHING`,
      ),
      // One statement over the whole contacts table: no addresses pass through JS, and an
      // already-suppressed address keeps its first reason.
      suppressMatching: c.prepare<[string, number, string, string]>(
        `INSERT INTO suppressions (email_hash, reason, actor, created_at)
         SELECT email_hash, 'manual', ?, ? FROM contacts WHERE email LIKE ? OR email LIKE ?
         ON CONFLICT(email_hash) DO NOTHING`,
      ),
      removeRule: c.prepare<[string]>(`DELETE FROM domain_suppressions WHERE pattern = ?`),
      listRules: c.prepare<[], RuleRow>(
        `SELECT pattern, actor, reason, created_at FROM domain_suppressions ORDER BY pattern`,
      ),
      getRule: c.prepare<[string], RuleRow>(
        `SELECT pattern, actor, reason, created_at FROM domain_suppressions WHERE pattern = ?`,
      ),
    };
  }

  async recordHardBounce(b: BounceRecord, change: BounceChange): Promise<void> {
    this.db.transaction((tx) => applyHardBounce(tx, b, change));
  }

  async isSuppressed(hash: Buffer): Promise<boolean> {
    return this.s.isSuppressed.get(hash) !== undefined;
  }

  async listPage(afterId: number, limit: number): Promise<SuppressionRow[]> {
    return this.s.page.all(afterId, limit).map((r) => ({
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
    return this.db.$client.transaction(() => {
      if (this.s.insertRule.run(rule.pattern, rule.actor, rule.reason, rule.createdAt).changes === 0)
        return null;
      const suppressedContacts = this.s.suppressMatching.run(rule.actor, rule.createdAt, a, b).changes;
      stopSequences(this.db, { emailLike: [a, b] }, 'left_audience', rule.createdAt);
      return { rule: toRule(this.s.getRule.get(rule.pattern)!), suppressedContacts };
    })();
  }

  async removeDomainRule(pattern: string): Promise<DomainRuleRow | null> {
    return this.db.$client.transaction(() => {
      const row = this.s.getRule.get(pattern);
      if (!row || this.s.removeRule.run(pattern).changes === 0) return null;
      return toRule(row);
    })();
  }

  async listDomainRules(): Promise<DomainRuleRow[]> {
    return this.s.listRules.all().map(toRule);
  }
}
