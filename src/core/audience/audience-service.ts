import type { CoreDeps } from '../types.js';

export type Recipient = {
  id: number;
  email: string;
  name: string | null;
  company: string | null;
  position: string | null;
};

/**
 * Who may be mailed, as SQL over `contacts c` joined to `batches b`: in the active batch, status
 * active, not suppressed, and not found by validation to have a domain that cannot receive mail
 * (unless an admin included those for the batch). The one definition every audience query is
 * built from.
 */
export const audienceRule = `b.status = 'active' AND c.status = 'active'
    AND (c.validation IS NOT 'no_mail_domain' OR b.include_invalid_domains = 1)
    AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = c.email_hash)`;

/** `FROM … WHERE <audienceRule>`: append more conditions with AND. */
export const audienceFrom = `FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE ${audienceRule}`;

/** Who a campaign may reach: contacts of the active batch whose status is active, minus suppressions and invalid domains. */
export class AudienceService {
  private readonly countStmt;
  private readonly pageStmt;
  constructor(deps: CoreDeps) {
    const sqlite = deps.db.$client;
    this.countStmt = sqlite.prepare<[], { n: number }>(`SELECT count(*) AS n ${audienceFrom}`);
    this.pageStmt = sqlite.prepare<[number, number], Recipient>(
      `SELECT c.id, c.email, c.name, c.company, c.position ${audienceFrom} AND c.id > ? ORDER BY c.id LIMIT ?`,
    );
  }

  /** How many contacts the audience holds now. */
  count(): number {
    return this.countStmt.get()?.n ?? 0;
  }

  /** One page of the audience after a contact id (keyset), so callers iterate with flat memory. */
  page(afterId: number, limit: number): Recipient[] {
    return this.pageStmt.all(afterId, limit);
  }

  /** Every recipient, page by page. */
  *iterate(pageSize = 1000): Generator<Recipient> {
    let after = 0;
    for (;;) {
      const rows = this.page(after, pageSize);
      if (rows.length === 0) return;
      yield* rows;
      after = rows.at(-1)!.id;
    }
  }
}
