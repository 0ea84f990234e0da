import type { Claimed, ClaimTarget, SentResult } from '../../core/sending/send-store.js';
import type { ContactStatus } from '../../core/vocabulary.js';
import type { Sqlite } from '../client.js';
import { audienceRule, notSendableReasonSql, sendInAudience } from './audience-sql.js';
import { stopReasonOfStatus, stopSequences } from './sequence-rows.js';

/** A contact as the claims read it (contacts `c`). */
export type Candidate = {
  contact_id: number;
  email: string;
  email_hash: Buffer;
  name: string | null;
  company: string | null;
  position: string | null;
};

type SentMark = {
  campaignId: string;
  contactId: number;
  step: number;
  nextDueAt: number | null;
  sendId: number;
  now: number;
};
type Due = Candidate & { step: number; status: ContactStatus; reason: string | null };
type Past = { step: number; variant: number | null; message_id: string | null; account: string | null };

/**
 * Who is due now (campaign id, now, limit): people whose next step is due, oldest due first, with
 * the reason each one is no longer sendable (null: in the audience). Served by sequence_people_due;
 * exported for the benchmark (npm run bench:engine -- --only sequence-due).
 */
export const dueFollowUpsSql = `SELECT p.contact_id, p.step, c.email, c.email_hash, c.name, c.company, c.position, c.status,
         ${notSendableReasonSql} AS reason
  FROM sequence_people p JOIN contacts c ON c.id = p.contact_id JOIN batches b ON b.id = c.batch_id
  WHERE p.campaign_id = ? AND p.next_due_at IS NOT NULL AND p.next_due_at <= ? AND p.stop_reason IS NULL
  ORDER BY p.next_due_at LIMIT ?`;

/**
 * The claims of a sequence campaign (follow-ups or variants), run inside the send store's claim
 * transaction: due retries with their step, due follow-ups (oldest due first; due people no
 * longer in the audience are stopped on the way), new people at step 1 with their variant; and
 * a person's place recorded with the sent mark. A one-step campaign never comes here.
 */
export class SequenceClaims {
  private readonly s;
  constructor(private readonly db: Sqlite) {
    this.s = {
      dueRetries: db.prepare<
        [string, number, number],
        Candidate & { id: number; attempts: number; step: number; variant: number | null }
      >(
        `SELECT x.id, x.attempts, x.step, x.variant, c.id AS contact_id, c.email, c.email_hash, c.name, c.company, c.position
         FROM sends x JOIN contacts c ON c.id = x.contact_id JOIN batches b ON b.id = c.batch_id
         WHERE x.campaign_id = ? AND x.status = 'retry' AND x.next_attempt_at <= ? AND ${audienceRule}
         ORDER BY x.next_attempt_at LIMIT ?`,
      ),
      /** Due people, in the audience or not (`reason` non-null: not): served by sequence_people_due. */
      due: db.prepare<[string, number, number], Due>(dueFollowUpsSql),
      /** The person's earlier rows (the unique index (campaign_id, contact_id, step) serves it). */
      past: db.prepare<[string, number, number], Past>(
        `SELECT step, variant, message_id, account FROM sends
         WHERE campaign_id = ? AND contact_id = ? AND step < ? ORDER BY step`,
      ),
      /** No row when the (campaign, contact, step) has one already: the ledger's at-most-once rule. */
      insert: db.prepare<
        [string, number, Buffer, number, number, number | null, number, number],
        { id: number }
      >(
        `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, attempts, claimed_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'claimed', 0, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
      ),
      advance: db.prepare<[number, number, number, string, number]>(
        `UPDATE sequence_people SET step = ?, next_due_at = NULL, last_send_id = ?, updated_at = ?
         WHERE campaign_id = ? AND contact_id = ?`,
      ),
      /** Nothing more to send (no next step, or its row exists already): finished. */
      finish: db.prepare<[number, string, number]>(
        `UPDATE sequence_people SET next_due_at = NULL, updated_at = ? WHERE campaign_id = ? AND contact_id = ?`,
      ),
      // A contact erased since the claim has no person to record (its rows keep contact_id NULL);
      // a person stopped meanwhile stays stopped. A contact who left the audience while the step
      // was in flight (a reply read before the server answered) is stopped here with its reason,
      // when a next step was to come, so the people list never shows them waiting.
      sent: db.prepare<[SentMark], unknown>(
        `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, stop_reason, stopped_at, last_send_id, updated_at)
         SELECT @campaignId, c.id, @step, CASE WHEN c.status = 'active' THEN @nextDueAt END,
           CASE WHEN @nextDueAt IS NULL OR c.status = 'active' THEN NULL
                WHEN c.status IN ('replied', 'bounced', 'complained', 'unsubscribed') THEN c.status
                ELSE 'left_audience' END,
           CASE WHEN @nextDueAt IS NOT NULL AND c.status <> 'active' THEN @now END,
           @sendId, @now
         FROM contacts c WHERE c.id = @contactId
         ON CONFLICT (campaign_id, contact_id) DO UPDATE SET step = excluded.step,
           next_due_at = excluded.next_due_at, stop_reason = excluded.stop_reason,
           stopped_at = excluded.stopped_at, last_send_id = excluded.last_send_id, updated_at = excluded.updated_at
         WHERE sequence_people.stop_reason IS NULL`,
      ),
      /**
       * People whose step waits for a retry that will not come (the contact left the audience: the
       * send store marks the row failed in the same transaction) stop, with the contact's reason.
       */
      staleStops: db.prepare<[number, number, string, string, number]>(
        `UPDATE sequence_people SET
           stop_reason = coalesce((SELECT CASE WHEN c.status IN ('replied', 'bounced', 'complained', 'unsubscribed')
             THEN c.status END FROM contacts c WHERE c.id = sequence_people.contact_id), 'left_audience'),
           stopped_at = ?, updated_at = ?
         WHERE campaign_id = ? AND stop_reason IS NULL AND last_send_id IN (
           SELECT id FROM sends WHERE campaign_id = ? AND status = 'retry' AND next_attempt_at <= ? AND NOT ${sendInAudience})`,
      ),
      waiting: db.prepare<[string], { one: number }>(
        `SELECT 1 AS one FROM sequence_people WHERE campaign_id = ? AND next_due_at IS NOT NULL LIMIT 1`,
      ),
    };
  }

  /** Before the send store fails the retries of people out of the audience: their sequences stop. */
  stopStale(campaignId: string, now: number): void {
    this.s.staleStops.run(now, now, campaignId, campaignId, now);
  }

  /** Due retries, each with its step, variant and the person's thread. */
  retries(c: ClaimTarget, now: number, limit: number, reclaim: (id: number) => void): Claimed[] {
    return this.s.dueRetries.all(c.id, now, limit).map((r) => {
      reclaim(r.id);
      return this.claimed(c.id, r.id, r, r.attempts, true, r.step, r.variant);
    });
  }

  /**
   * Up to `limit` due follow-ups, oldest due first: each gets its row (step k+1 with its variant)
   * and the person waits on it. Due people out of the audience are stopped with their reason.
   */
  followUps(
    c: ClaimTarget & { sequence: NonNullable<ClaimTarget['sequence']> },
    limit: number,
    now: number,
  ): Claimed[] {
    const s = this.s;
    const out: Claimed[] = [];
    // Every row read leaves the due set (claimed, stopped or finished): read again until full.
    for (let need = limit; need > 0; need = limit - out.length) {
      const rows = s.due.all(c.id, now, need);
      for (const r of rows) {
        if (r.reason !== null) {
          // Out of the audience: its status says why (replied, bounced…), else it left otherwise.
          const why = stopReasonOfStatus(r.status) ?? 'left_audience';
          stopSequences(this.db, { campaignId: c.id, contactId: r.contact_id }, why, now);
          continue;
        }
        const step = r.step + 1;
        const variant = c.sequence.variantOf(step, r.contact_id);
        // No such step (the sequence got shorter), or a row for it already: finished, never twice.
        const row =
          step <= c.sequence.steps
            ? s.insert.get(c.id, r.contact_id, r.email_hash, c.runCount, step, variant, now, now)
            : undefined;
        if (!row) {
          s.finish.run(now, c.id, r.contact_id);
          continue;
        }
        s.advance.run(step, row.id, now, c.id, r.contact_id);
        out.push(this.claimed(c.id, row.id, r, 0, false, step, variant));
      }
      if (rows.length < need) break;
    }
    return out;
  }

  /** A new person at step 1, with the variant `variantOf` deals. */
  fresh(
    c: ClaimTarget & { sequence: NonNullable<ClaimTarget['sequence']> },
    r: Candidate,
    now: number,
  ): Claimed | null {
    const variant = c.sequence.variantOf(1, r.contact_id);
    const row = this.s.insert.get(c.id, r.contact_id, r.email_hash, c.runCount, 1, variant, now, now);
    return row ? this.claimed(c.id, row.id, r, 0, false, 1, variant) : null;
  }

  /** Records the person's place with the sent mark: this step, when the next is due (or null). */
  markSent(q: NonNullable<SentResult['sequence']>, sendId: number, now: number): void {
    this.s.sent.run({
      campaignId: q.campaignId,
      contactId: q.contactId,
      step: q.step,
      nextDueAt: q.nextDueAt,
      sendId,
      now,
    });
  }

  /** Whether someone waits for a follow-up. */
  waiting(campaignId: string): boolean {
    return this.s.waiting.get(campaignId) !== undefined;
  }

  private claimed(
    campaignId: string,
    sendId: number,
    r: Candidate,
    attempts: number,
    retry: boolean,
    step: number,
    variant: number | null,
  ): Claimed {
    const past = step > 1 ? this.s.past.all(campaignId, r.contact_id, step) : [];
    const previous = past.find((p) => p.step === step - 1);
    return {
      ...toClaimed(sendId, r, attempts, retry),
      step,
      variant,
      firstVariant: step > 1 ? (past.find((p) => p.step === 1)?.variant ?? null) : null,
      thread: past.flatMap((p) => (p.message_id ? [p.message_id] : [])),
      ...(previous?.account ? { account: previous.account } : {}),
    };
  }
}

/** A claimed recipient at step 1 without a variant (a one-step campaign's claims). */
export function toClaimed(sendId: number, r: Candidate, attempts: number, retry: boolean): Claimed {
  return {
    sendId,
    contactId: r.contact_id,
    emailHash: r.email_hash,
    attempts,
    retry,
    recipient: { email: r.email, name: r.name, company: r.company, position: r.position },
    step: 1,
    variant: null,
    firstVariant: null,
    thread: [],
  };
}
