import type { MatchedBy, SendMatchQuery } from '../../core/mailbox/mailbox-store.js';
import type { Sqlite } from '../client.js';

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

/**
 * Matching a read message to a send (common15's order): a verified tag, then a Message-ID stored on
 * the ledger (sends before send refs), then the address among contacts mailed since a moment
 * (their latest such send). Statements prepared once; run inside the caller's transaction.
 */
export class SendMatcher {
  private readonly s;
  private untagged: boolean | undefined;
  constructor(sqlite: Sqlite) {
    this.s = {
      byId: sqlite.prepare<[number], Row>(
        `SELECT ${columns} FROM sends s LEFT JOIN contacts c ON c.id = s.contact_id WHERE s.id = ?`,
      ),
      // Only sends from before send refs need this lookup; the partial index sends_legacy_message_id
      // holds just their Message-IDs (the same substr term lets SQLite use it).
      byMessageId: sqlite.prepare<[string], Row>(
        `SELECT ${columns} FROM sends s LEFT JOIN contacts c ON c.id = s.contact_id
         WHERE s.message_id IN (SELECT value FROM json_each(?)) AND substr(s.message_id, 1, 4) <> '<cb.'
         ORDER BY s.id DESC LIMIT 1`,
      ),
      untagged: sqlite.prepare<[], { one: number }>(
        `SELECT 1 AS one FROM sends WHERE message_id IS NOT NULL AND substr(message_id, 1, 4) <> '<cb.' LIMIT 1`,
      ),
      byAddress: sqlite.prepare<[string, number], Row>(
        `SELECT ${columns} FROM contacts c JOIN sends s ON s.contact_id = c.id
         WHERE c.email = ? AND s.claimed_at >= ? AND ${mailed}
         ORDER BY s.claimed_at DESC, s.id DESC LIMIT 1`,
      ),
      contact: sqlite.prepare<[string], { id: number; email_hash: Buffer }>(
        `SELECT id, email_hash FROM contacts WHERE email = ?`,
      ),
    };
  }

  /** The send of the query, in the matching order; null when nothing matches. */
  find(q: SendMatchQuery): FoundSend | null {
    return this.tagged(q.taggedSendId, 'tag') ?? this.byMessageIds(q.messageIds) ?? this.byAddresses(q);
  }

  /** A send by id (a verified tag or unsubscribe token), null when the row is gone. */
  tagged(sendId: number | null, by: MatchedBy): FoundSend | null {
    if (sendId === null) return null;
    const row = this.s.byId.get(sendId);
    return row ? found(row, by) : null;
  }

  /** The latest send of one address mailed at or after `since`. */
  byAddress(email: string, since: number): FoundSend | null {
    const row = this.s.byAddress.get(email, since);
    return row ? found(row, 'address') : null;
  }

  /** A contact held with this address (an unsubscribe with no send to name). */
  contact(email: string): { id: number; emailHash: Buffer } | null {
    const row = this.s.contact.get(email);
    return row ? { id: row.id, emailHash: row.email_hash } : null;
  }

  private byMessageIds(ids: readonly string[]): FoundSend | null {
    const candidates = ids
      .map((id) => id.trim().replace(/^<|>$/g, ''))
      // A Message-ID of ours carries a tag (a failed one was checked already): only others may be stored.
      .filter((bare) => bare !== '' && !bare.toLowerCase().startsWith('cb.'))
      .slice(0, maxMessageIds);
    if (candidates.length === 0 || !this.hasUntagged()) return null;
    const row = this.s.byMessageId.get(JSON.stringify(candidates.flatMap((bare) => [`<${bare}>`, bare])));
    return row ? found(row, 'message_id') : null;
  }

  /**
   * Whether the ledger holds any Message-ID without a send ref (sends from before them), asked
   * once: every message sent since carries a tag, so a database without such rows never will.
   */
  private hasUntagged(): boolean {
    this.untagged ??= this.s.untagged.get() !== undefined;
    return this.untagged;
  }

  private byAddresses(q: SendMatchQuery): FoundSend | null {
    for (const email of q.addresses) {
      const hit = this.byAddress(email, q.since);
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
