import type { MatchedBy, SendMatchQuery } from '../../core/mailbox/mailbox-store.js';
import { type PgExec, row } from './client.js';

/** A ledger row a read message was matched to, with what its effects need. */
export type FoundSend = {
  sendId: number;
  campaignId: string;
  contactId: number | null;
  emailHash: Buffer;
  attempts: number;
  /** The contact's address while it is held, else null. */
  email: string | null;
  by: MatchedBy;
};

type Row = {
  id: number;
  campaign_id: string;
  contact_id: number | null;
  email_hash: Buffer;
  attempts: number;
  email: string | null;
};

/** Message-IDs looked up on sends.message_id per message (References can be long). */
const maxMessageIds = 8;
/** Ledger rows whose message may have gone out (a DSN or a reply can only be about those). */
const mailed = `s.status IN ('sent', 'bounced', 'unknown')`;
const columns = 's.id, s.campaign_id, s.contact_id, s.email_hash, s.attempts, c.email';

const byIdSql = `SELECT ${columns} FROM sends s LEFT JOIN contacts c ON c.id = s.contact_id WHERE s.id = $1`;
// Only sends from before send refs need this lookup; the partial index sends_legacy_message_id
// holds just their Message-IDs (the same substr term lets Postgres use it).
const byMessageIdSql = `SELECT ${columns} FROM sends s LEFT JOIN contacts c ON c.id = s.contact_id
  WHERE s.message_id = ANY($1::text[]) AND substr(s.message_id, 1, 4) <> '<cb.'
  ORDER BY s.id DESC LIMIT 1`;
const untaggedSql = `SELECT 1 AS one FROM sends WHERE message_id IS NOT NULL AND substr(message_id, 1, 4) <> '<cb.' LIMIT 1`;
const byAddressSql = `SELECT ${columns} FROM contacts c JOIN sends s ON s.contact_id = c.id
  WHERE c.email = $1 AND s.claimed_at >= $2 AND ${mailed}
  ORDER BY s.claimed_at DESC, s.id DESC LIMIT 1`;
const contactSql = `SELECT id, email_hash FROM contacts WHERE email = $1`;

/**
 * Matching a read message to a send (common15's order): a verified tag, then a Message-ID stored on
 * the ledger (sends before send refs), then the address among contacts mailed since a moment
 * (their latest such send). Each lookup runs on the caller's transaction (`exec`).
 */
export class SendMatcher {
  private untagged: boolean | undefined;

  /** The send of the query, in the matching order; null when nothing matches. */
  async find(exec: PgExec, q: SendMatchQuery): Promise<FoundSend | null> {
    return (
      (await this.tagged(exec, q.taggedSendId, 'tag')) ??
      (await this.byMessageIds(exec, q.messageIds)) ??
      (await this.byAddresses(exec, q))
    );
  }

  /** A send by id (a verified tag or unsubscribe token), null when the row is gone. */
  async tagged(exec: PgExec, sendId: number | null, by: MatchedBy): Promise<FoundSend | null> {
    if (sendId === null) return null;
    const r = await row<Row>(exec, byIdSql, [sendId]);
    return r ? found(r, by) : null;
  }

  /** The latest send of one address mailed at or after `since`. */
  async byAddress(exec: PgExec, email: string, since: number): Promise<FoundSend | null> {
    const r = await row<Row>(exec, byAddressSql, [email, since]);
    return r ? found(r, 'address') : null;
  }

  /** A contact held with this address (an unsubscribe with no send to name). */
  async contact(exec: PgExec, email: string): Promise<{ id: number; emailHash: Buffer } | null> {
    const r = await row<{ id: number; email_hash: Buffer }>(exec, contactSql, [email]);
    return r ? { id: r.id, emailHash: r.email_hash } : null;
  }

  private async byMessageIds(exec: PgExec, ids: readonly string[]): Promise<FoundSend | null> {
    const candidates = ids
      .map((id) => id.trim().replace(/^<|>$/g, ''))
      // A Message-ID of ours carries a tag (a failed one was checked already): only others may be stored.
      .filter((bare) => bare !== '' && !bare.toLowerCase().startsWith('cb.'))
      .slice(0, maxMessageIds);
    if (candidates.length === 0 || !(await this.hasUntagged(exec))) return null;
    const r = await row<Row>(exec, byMessageIdSql, [candidates.flatMap((bare) => [`<${bare}>`, bare])]);
    return r ? found(r, 'message_id') : null;
  }

  /**
   * Whether the ledger holds any Message-ID without a send ref (sends from before them), asked
   * once per store: every message sent since carries a tag, so a database without such rows never will.
   */
  private async hasUntagged(exec: PgExec): Promise<boolean> {
    this.untagged ??= (await row(exec, untaggedSql)) !== undefined;
    return this.untagged;
  }

  private async byAddresses(exec: PgExec, q: SendMatchQuery): Promise<FoundSend | null> {
    for (const email of q.addresses) {
      const hit = await this.byAddress(exec, email, q.since);
      if (hit) return hit;
    }
    return null;
  }
}

const found = (r: Row, by: MatchedBy): FoundSend => ({
  sendId: r.id,
  campaignId: r.campaign_id,
  contactId: r.contact_id,
  emailHash: r.email_hash,
  attempts: r.attempts,
  email: r.email,
  by,
});
