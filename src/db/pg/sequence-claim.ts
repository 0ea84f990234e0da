import type { Claimed, ClaimTarget, SentResult } from '../../core/sending/send-store.js';
import type { ContactStatus } from '../../core/vocabulary.js';
import { audienceRule, notSendableReasonSql } from './audience-sql.js';
import { type PgExec, rows } from './client.js';
import type { PgClaimer } from './leases.js';
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

/** A claim target with its sequence (follow-ups or variants). */
export type SequenceTarget = ClaimTarget & { sequence: NonNullable<ClaimTarget['sequence']> };

type Due = Candidate & { step: number; status: ContactStatus; reason: string | null };
type Past = {
  ord: number;
  step: number;
  variant: number | null;
  message_id: string | null;
  account: string | null;
};
type Retry = Candidate & { id: number; attempts: number; step: number; variant: number | null };

/**
 * Who is due now ($1 campaign id, $2 now, $3 limit): people whose next step is due, oldest due
 * first, with the reason each one is no longer sendable (null: in the audience). Served by
 * sequence_people_due. The twin of db/sqlite/sequence-claim.ts dueFollowUpsSql.
 */
export const dueFollowUpsSql = `SELECT p.contact_id, p.step, c.email, c.email_hash, c.name, c.company, c.position, c.status,
         ${notSendableReasonSql} AS reason
  FROM sequence_people p JOIN contacts c ON c.id = p.contact_id JOIN batches b ON b.id = c.batch_id
  WHERE p.campaign_id = $1 AND p.next_due_at IS NOT NULL AND p.next_due_at <= $2 AND p.stop_reason IS NULL
  ORDER BY p.next_due_at LIMIT $3`;

// Another instance claiming the same campaign skips the people it has locked (they are its own);
// the contact is held against deletion until the step's row (which references it) is written,
// and one being deleted right now is skipped.
const dueLocked = `${dueFollowUpsSql} FOR UPDATE OF p SKIP LOCKED FOR KEY SHARE OF c SKIP LOCKED`;

/**
 * Due retries ($1 campaign, $2 now, $3 limit) of contacts still in the audience, oldest due first.
 * Rows another instance is claiming right now are skipped: each row goes to one claimer.
 */
const dueRetriesSql = `SELECT x.id, x.attempts, x.step, x.variant, c.id AS contact_id, c.email, c.email_hash, c.name, c.company, c.position
  FROM sends x JOIN contacts c ON c.id = x.contact_id JOIN batches b ON b.id = c.batch_id
  WHERE x.campaign_id = $1 AND x.status = 'retry' AND x.next_attempt_at <= $2 AND ${audienceRule}
  ORDER BY x.next_attempt_at LIMIT $3 FOR UPDATE OF x SKIP LOCKED`;

/**
 * People whose step waits for a retry that will not come (the rows of `stale`, a CTE the send
 * store's sweep locks and marks failed in the same statement) stop, with the contact's reason.
 * $1 now, $2 campaign id.
 */
export const staleStopsCte = `stopped AS (
  UPDATE sequence_people SET
    stop_reason = coalesce((SELECT CASE WHEN c.status IN ('replied', 'bounced', 'complained', 'unsubscribed')
      THEN c.status END FROM contacts c WHERE c.id = sequence_people.contact_id), 'left_audience'),
    stopped_at = $1, updated_at = $1
  WHERE campaign_id = $2 AND stop_reason IS NULL AND last_send_id IN (SELECT id FROM stale))`;

/** Step rows, one per (campaign, contact, step) at most (the at-most-once rule), claimed by $8. */
const insertSteps = `INSERT INTO sends (campaign_id, contact_id, email_hash, run, step, variant, status, attempts, claimed_at, updated_at, claimed_by)
  SELECT $1::text, u.contact_id, u.email_hash, $2::bigint, u.step, u.variant, 'claimed', 0, $3::bigint, $3::bigint, $8::text
  FROM unnest($4::bigint[], $5::bytea[], $6::bigint[], $7::bigint[]) WITH ORDINALITY AS u(contact_id, email_hash, step, variant, ord)
  ORDER BY u.ord
  ON CONFLICT DO NOTHING RETURNING id, contact_id`;

// A contact erased since the claim has no person to record (its rows keep contact_id NULL); a
// person stopped meanwhile stays stopped. A contact who left the audience while the step was in
// flight is stopped here with its reason, when a next step was to come.
const markSentSql = `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, stop_reason, stopped_at, last_send_id, updated_at)
  SELECT u.campaign_id, c.id, u.step, CASE WHEN c.status = 'active' THEN u.next_due_at END,
    CASE WHEN u.next_due_at IS NULL OR c.status = 'active' THEN NULL
         WHEN c.status IN ('replied', 'bounced', 'complained', 'unsubscribed') THEN c.status
         ELSE 'left_audience' END,
    CASE WHEN u.next_due_at IS NOT NULL AND c.status <> 'active' THEN $1::bigint END,
    u.send_id, $1::bigint
  FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
    AS u(campaign_id, contact_id, step, next_due_at, send_id)
  JOIN contacts c ON c.id = u.contact_id
  FOR KEY SHARE OF c
  ON CONFLICT (campaign_id, contact_id) DO UPDATE SET step = excluded.step,
    next_due_at = excluded.next_due_at, stop_reason = excluded.stop_reason,
    stopped_at = excluded.stopped_at, last_send_id = excluded.last_send_id, updated_at = excluded.updated_at
  WHERE sequence_people.stop_reason IS NULL`;

/** Due retries of a campaign, claimed by `claimer` (claimed_at kept: daily limits count people). */
export async function claimDueRetries(
  exec: PgExec,
  claimer: PgClaimer,
  campaignId: string,
  now: number,
  limit: number,
): Promise<Retry[]> {
  const due = await rows<Retry>(exec, dueRetriesSql, [campaignId, now, limit]);
  if (due.length > 0)
    await exec.query(`UPDATE sends SET status = 'claimed', claimed_by = $2 WHERE id = ANY($1::bigint[])`, [
      due.map((r) => r.id),
      claimer?.id ?? null,
    ]);
  return due;
}

/** Step rows for `people` (ids ascending in order) claimed by `claimer`: ids by index, null if one exists. */
export async function insertStepRows(
  exec: PgExec,
  claimer: PgClaimer,
  c: ClaimTarget,
  people: readonly { r: Candidate; step: number; variant: number | null }[],
  now: number,
): Promise<(number | null)[]> {
  if (people.length === 0) return [];
  const made = await rows<{ id: number; contact_id: number }>(exec, insertSteps, [
    c.id,
    c.runCount,
    now,
    people.map((p) => p.r.contact_id),
    people.map((p) => p.r.email_hash),
    people.map((p) => p.step),
    people.map((p) => p.variant),
    claimer?.id ?? null,
  ]);
  const ids = new Map(made.map((m) => [m.contact_id, m.id]));
  return people.map((p) => ids.get(p.r.contact_id) ?? null);
}

/**
 * The claims of a sequence campaign (follow-ups or variants), run inside the send store's claim
 * transaction: due retries with their step, due follow-ups (oldest due first; due people no
 * longer in the audience are stopped on the way), and a person's place recorded with the sent
 * mark, for the instance `claimer` (leases.ts). A one-step campaign never comes here.
 */
export class SequenceClaims {
  constructor(private readonly claimer: PgClaimer) {}

  /** Due retries, each with its step, variant and the person's thread. */
  async retries(tx: PgExec, c: ClaimTarget, now: number, limit: number): Promise<Claimed[]> {
    const due = await claimDueRetries(tx, this.claimer, c.id, now, limit);
    return this.withThreads(
      tx,
      c.id,
      due.map((r) => ({
        sendId: r.id,
        r,
        attempts: r.attempts,
        retry: true,
        step: r.step,
        variant: r.variant,
      })),
    );
  }

  /**
   * Up to `limit` due follow-ups, oldest due first: each gets its row (step k+1 with its variant)
   * and the person waits on it. Due people out of the audience are stopped with their reason.
   */
  async followUps(tx: PgExec, c: SequenceTarget, limit: number, now: number): Promise<Claimed[]> {
    const out: Claimed[] = [];
    // Every row read leaves the due set (claimed, stopped or finished): read again until full.
    for (let need = limit; need > 0; need = limit - out.length) {
      const due = await rows<Due>(tx, dueLocked, [c.id, now, need]);
      const go: { r: Due; step: number; variant: number | null }[] = [];
      const finished: number[] = [];
      for (const r of due) {
        if (r.reason !== null) {
          // Out of the audience: its status says why (replied, bounced…), else it left otherwise.
          const why = stopReasonOfStatus(r.status) ?? 'left_audience';
          await stopSequences(tx, { campaignId: c.id, contactId: r.contact_id }, why, now);
          continue;
        }
        const step = r.step + 1;
        // No such step (the sequence got shorter): finished.
        if (step > c.sequence.steps) finished.push(r.contact_id);
        else go.push({ r, step, variant: c.sequence.variantOf(step, r.contact_id) });
      }
      const ids = await insertStepRows(tx, this.claimer, c, go, now);
      const made: { sendId: number; r: Due; step: number; variant: number | null }[] = [];
      go.forEach((g, i) => {
        const sendId = ids[i];
        // A row for that step already: finished, never twice.
        if (sendId == null) finished.push(g.r.contact_id);
        else made.push({ sendId, ...g });
      });
      if (finished.length > 0)
        await tx.query(
          `UPDATE sequence_people SET next_due_at = NULL, updated_at = $1
           WHERE campaign_id = $2 AND contact_id = ANY($3::bigint[])`,
          [now, c.id, finished],
        );
      if (made.length > 0)
        await tx.query(
          `UPDATE sequence_people p SET step = u.step, next_due_at = NULL, last_send_id = u.send_id, updated_at = $1
           FROM unnest($3::bigint[], $4::bigint[], $5::bigint[]) AS u(contact_id, step, send_id)
           WHERE p.campaign_id = $2 AND p.contact_id = u.contact_id`,
          [now, c.id, made.map((m) => m.r.contact_id), made.map((m) => m.step), made.map((m) => m.sendId)],
        );
      out.push(
        ...(await this.withThreads(
          tx,
          c.id,
          made.map((m) => ({ ...m, attempts: 0, retry: false })),
        )),
      );
      if (due.length < need) break;
    }
    return out;
  }

  /** Records people's places with their sent marks: this step, when the next is due (or null). */
  async markSent(
    tx: PgExec,
    marks: readonly { q: NonNullable<SentResult['sequence']>; sendId: number }[],
    now: number,
  ): Promise<void> {
    if (marks.length === 0) return;
    // One statement cannot change a person twice: marks of one person (never two in one
    // settlement in practice) go one statement each, in order.
    const keys = new Set(marks.map((m) => `${m.q.campaignId}\u0000${m.q.contactId}`));
    const groups = keys.size === marks.length ? [marks] : marks.map((m) => [m]);
    for (const g of groups)
      await tx.query(markSentSql, [
        now,
        g.map((m) => m.q.campaignId),
        g.map((m) => m.q.contactId),
        g.map((m) => m.q.step),
        g.map((m) => m.q.nextDueAt),
        g.map((m) => m.sendId),
      ]);
  }

  /**
   * Claimed recipients with their step, variant, step 1's variant, thread and the identity of the
   * previous step (the person's earlier rows, read in one query).
   */
  async withThreads(
    tx: PgExec,
    campaignId: string,
    items: readonly {
      sendId: number;
      r: Candidate;
      attempts: number;
      retry: boolean;
      step: number;
      variant: number | null;
    }[],
  ): Promise<Claimed[]> {
    const later = items.filter((i) => i.step > 1);
    const past =
      later.length === 0
        ? []
        : await rows<Past>(
            tx,
            `SELECT u.ord, x.step, x.variant, x.message_id, x.account
             FROM unnest($2::bigint[], $3::bigint[]) WITH ORDINALITY AS u(contact_id, step, ord)
             JOIN sends x ON x.campaign_id = $1 AND x.contact_id = u.contact_id AND x.step < u.step
             ORDER BY u.ord, x.step`,
            [campaignId, later.map((i) => i.r.contact_id), later.map((i) => i.step)],
          );
    // Each later step's earlier rows, by its place in `later` (WITH ORDINALITY counts from 1).
    const byOrd = new Map<number, Past[]>();
    for (const p of past) byOrd.set(p.ord, [...(byOrd.get(p.ord) ?? []), p]);
    const ordOf = new Map(later.map((i, n) => [i, n + 1]));
    return items.map((i) => {
      const mine = byOrd.get(ordOf.get(i) ?? 0) ?? [];
      const previous = mine.find((p) => p.step === i.step - 1);
      return {
        ...toClaimed(i.sendId, i.r, i.attempts, i.retry),
        step: i.step,
        variant: i.variant,
        firstVariant: i.step > 1 ? (mine.find((p) => p.step === 1)?.variant ?? null) : null,
        thread: mine.flatMap((p) => (p.message_id ? [p.message_id] : [])),
        ...(previous?.account ? { account: previous.account } : {}),
      };
    });
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
