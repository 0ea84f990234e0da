import { eq, or } from 'drizzle-orm';
import type {
  BouncedSend,
  Claimed,
  ClaimTarget,
  SendStore,
  SentResult,
} from '../../core/sending/send-store.js';
import type { Db, Sqlite } from '../client.js';
import { sends } from '../schema.js';
import { audienceFrom, audienceRule, sendInAudience } from './audience-sql.js';
import { type Candidate, SequenceClaims, toClaimed } from './sequence-claim.js';

/** The send ledger over SQLite: every statement prepared once; a claim is one transaction per batch of recipients. */
export class SqliteSendStore implements SendStore {
  private readonly s;
  private readonly claimTx;
  private readonly sentTx;
  /** A sequence campaign's claims and person bookkeeping (a one-step campaign never uses them). */
  private readonly seq;
  constructor(db: Sqlite) {
    this.seq = new SequenceClaims(db);
    this.s = {
      dueRetries: db.prepare<[string, number, number], Candidate & { id: number; attempts: number }>(
        `SELECT x.id, x.attempts, c.id AS contact_id, c.email, c.email_hash, c.name, c.company, c.position
         FROM sends x JOIN contacts c ON c.id = x.contact_id JOIN batches b ON b.id = c.batch_id
         WHERE x.campaign_id = ? AND x.status = 'retry' AND x.next_attempt_at <= ? AND ${audienceRule}
         ORDER BY x.next_attempt_at LIMIT ?`,
      ),
      staleRetries: db.prepare<[number, string, number]>(
        `UPDATE sends SET status = 'failed', updated_at = ?,
           response = 'not retried: no longer in the audience (inactive, suppressed, deleted or batch deactivated)'
         WHERE campaign_id = ? AND status = 'retry' AND next_attempt_at <= ? AND NOT ${sendInAudience}`,
      ),
      /** Keeps claimed_at (the first claim): daily limits count people, not attempts. */
      reclaim: db.prepare<[number]>(`UPDATE sends SET status = 'claimed' WHERE id = ?`),
      fresh: db.prepare<[number, string, number], Candidate>(
        `SELECT c.id AS contact_id, c.email, c.email_hash, c.name, c.company, c.position ${audienceFrom}
           AND c.id > ? AND NOT EXISTS (SELECT 1 FROM sends x WHERE x.campaign_id = ? AND x.contact_id = c.id)
         ORDER BY c.id LIMIT ?`,
      ),
      insert: db.prepare<[string, number, Buffer, number, number, number], { id: number }>(
        `INSERT INTO sends (campaign_id, contact_id, email_hash, run, status, attempts, claimed_at, updated_at)
         VALUES (?, ?, ?, ?, 'claimed', 0, ?, ?) RETURNING id`,
      ),
      // Two forms: setting `account` (even to itself) rewrites the row's (account, claimed_at) index
      // entry, so a message without a sending identity leaves the column out.
      sent: db.prepare<[string, string, number, number]>(
        `UPDATE sends SET status = 'sent', attempts = attempts + 1, message_id = ?, response = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ?`,
      ),
      sentBy: db.prepare<[string, string, string, number, number]>(
        `UPDATE sends SET status = 'sent', attempts = attempts + 1, message_id = ?, response = ?, account = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ?`,
      ),
      retry: db.prepare<[string, number, number | null, string, number, number]>(
        `UPDATE sends SET status = ?, attempts = ?, next_attempt_at = ?, response = ?, updated_at = ? WHERE id = ?`,
      ),
      lost: db.prepare<[string, number, number]>(
        `UPDATE sends SET status = 'unknown', attempts = attempts + 1, response = ?, updated_at = ?, next_attempt_at = NULL WHERE id = ?`,
      ),
      unknown: db.prepare<[number]>(
        `UPDATE sends SET status = 'unknown', attempts = attempts + 1, response = 'the app stopped during delivery: not re-sent', updated_at = ?
         WHERE status = 'claimed'`,
      ),
      // Claimed rows count as pending too (the same meaning as on Postgres, where another
      // instance may be sending them); here only a pass under way holds any.
      pendingRetries: db.prepare<[string], { one: number }>(
        `SELECT 1 AS one FROM sends WHERE campaign_id = ? AND status IN ('retry', 'claimed') LIMIT 1`,
      ),
      nextRetry: db.prepare<[string], { at: number | null }>(
        `SELECT min(next_attempt_at) AS at FROM sends WHERE campaign_id = ? AND status = 'retry'`,
      ),
      countRun: db.prepare<[string, number], { n: number }>(
        `SELECT count(*) AS n FROM sends WHERE campaign_id = ? AND run = ?`,
      ),
      countSince: db.prepare<[string, number], { n: number }>(
        `SELECT count(*) AS n FROM sends WHERE campaign_id = ? AND claimed_at >= ?`,
      ),
      runStats: db.prepare<[string, number], { attempted: number; bounced: number }>(
        `SELECT coalesce(sum(status IN ('sent', 'bounced', 'failed')), 0) AS attempted,
                coalesce(sum(status = 'bounced'), 0) AS bounced
         FROM sends WHERE campaign_id = ? AND run = ?`,
      ),
    };
    this.claimTx = db.transaction(
      (
        c: ClaimTarget,
        limit: number,
        now: number,
        after: number,
        settled: SentResult[],
        retries: boolean,
      ): Claimed[] => {
        const s = this.s;
        // Messages sent since the last claim are settled in the same commit (one WAL write, not two).
        for (const r of settled) this.markSent(r, now);
        if (limit <= 0) return [];
        if (c.sequence) return this.claimSequence({ ...c, sequence: c.sequence }, limit, now, after, retries);
        const out: Claimed[] = [];
        if (retries) {
          s.staleRetries.run(now, c.id, now);
          for (const r of s.dueRetries.all(c.id, now, limit)) {
            s.reclaim.run(r.id);
            out.push(toClaimed(r.id, r, r.attempts, true));
          }
        }
        // A completed campaign sending again (retryFailed) takes only its re-queued rows.
        if (out.length < limit && c.completedAt === null) {
          for (const r of s.fresh.all(after, c.id, limit - out.length)) {
            const { id } = s.insert.get(c.id, r.contact_id, r.email_hash, c.runCount, now, now)!;
            out.push(toClaimed(id, r, 0, false));
          }
        }
        return out;
      },
    );
    this.sentTx = db.transaction((results: SentResult[], now: number) => {
      for (const r of results) this.markSent(r, now);
    });
  }

  async claim(
    c: ClaimTarget,
    limit: number,
    now: number,
    afterContactId: number,
    settled: SentResult[],
    retries = true,
  ): Promise<Claimed[]> {
    return this.claimTx(c, limit, now, afterContactId, settled, retries);
  }

  async settleSent(results: SentResult[], now: number): Promise<void> {
    if (results.length > 0) this.sentTx(results, now);
  }

  async settleRetry(
    sendId: number,
    attempts: number,
    nextAttemptAt: number | null,
    response: string,
    now: number,
  ): Promise<void> {
    const status = nextAttemptAt === null ? 'failed' : 'retry';
    this.s.retry.run(status, attempts, nextAttemptAt, response.slice(0, 500), now, sendId);
  }

  async settleUnknown(sendId: number, response: string, now: number): Promise<void> {
    this.s.lost.run(response.slice(0, 500), now, sendId);
  }

  async markClaimedUnknown(now: number): Promise<number> {
    return this.s.unknown.run(now).changes;
  }

  async hasPendingWork(campaignId: string): Promise<boolean> {
    return this.s.pendingRetries.get(campaignId) !== undefined || this.seq.waiting(campaignId);
  }

  async nextRetryAt(campaignId: string): Promise<number | null> {
    return this.s.nextRetry.get(campaignId)?.at ?? null;
  }

  async countRun(campaignId: string, run: number): Promise<number> {
    return this.s.countRun.get(campaignId, run)?.n ?? 0;
  }

  async countSince(campaignId: string, since: number): Promise<number> {
    return this.s.countSince.get(campaignId, since)?.n ?? 0;
  }

  async runStats(campaignId: string, run: number): Promise<{ attempted: number; bounced: number }> {
    return this.s.runStats.get(campaignId, run) ?? { attempted: 0, bounced: 0 };
  }

  /**
   * A sequence campaign's claim (inside the claim transaction): due retries, then due follow-ups,
   * then new people at step 1 with their variant.
   */
  private claimSequence(
    c: ClaimTarget & { sequence: NonNullable<ClaimTarget['sequence']> },
    limit: number,
    now: number,
    after: number,
    retries: boolean,
  ): Claimed[] {
    const s = this.s;
    const out: Claimed[] = [];
    if (retries) {
      if (c.sequence.steps > 1) this.seq.stopStale(c.id, now);
      s.staleRetries.run(now, c.id, now);
      out.push(...this.seq.retries(c, now, limit, (id) => s.reclaim.run(id)));
    }
    if (out.length < limit && c.sequence.steps > 1)
      out.push(...this.seq.followUps(c, limit - out.length, now));
    if (out.length < limit && c.completedAt === null) {
      for (const r of s.fresh.all(after, c.id, limit - out.length)) {
        const claimed = this.seq.fresh(c, r, now);
        if (claimed) out.push(claimed);
      }
    }
    return out;
  }

  private markSent(r: SentResult, now: number): void {
    const response = r.response.slice(0, 500);
    if (r.account === undefined) this.s.sent.run(r.messageId, response, now, r.sendId);
    else this.s.sentBy.run(r.messageId, response, r.account, now, r.sendId);
    if (r.sequence) this.seq.markSent(r.sequence, r.sendId, now);
  }
}

/**
 * Ledger writes other stores make inside their own transaction (the one module writing `sends`):
 * a hard bounce's settlement (the suppression store's bounce rule), a forget's erasure (the people
 * store).
 */

/** A hard bounce's ledger row becomes `bounced`, with its attempts and the answer (cut to 500). */
export function markBounced(tx: Pick<Db, 'update'>, b: BouncedSend): void {
  tx.update(sends)
    .set({ status: 'bounced', attempts: b.attempts, response: b.response.slice(0, 500), updatedAt: b.at })
    .where(eq(sends.id, b.sendId))
    .run();
}

/** Drops the SMTP answers (they may quote the address) of a person's ledger rows; how many rows. */
export function eraseSendResponses(tx: Pick<Db, 'update'>, contactId: number | null, hash: Buffer): number {
  return tx
    .update(sends)
    .set({ response: null })
    .where(
      contactId != null
        ? or(eq(sends.contactId, contactId), eq(sends.emailHash, hash))
        : eq(sends.emailHash, hash),
    )
    .run().changes;
}
