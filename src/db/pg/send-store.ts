import type {
  BouncedSend,
  Claimed,
  ClaimTarget,
  SendStore,
  SentResult,
} from '../../core/sending/send-store.js';
import { audienceFrom, sendInAudience } from './audience-sql.js';
import { inTransaction, type PgDb, type PgExec, row, rows } from './client.js';
import { leaseLapsedSql, type PgClaimer } from './leases.js';
import {
  type Candidate,
  claimDueRetries,
  insertStepRows,
  SequenceClaims,
  staleStopsCte,
  toClaimed,
} from './sequence-claim.js';

/**
 * Due retries of contacts no longer in the audience ($1 now, $2 campaign): locked, skipping rows
 * another instance holds (its claim deals with them), then marked failed by the statement.
 */
const staleCte = `stale AS (
  SELECT id FROM sends WHERE campaign_id = $2 AND status = 'retry' AND next_attempt_at <= $1 AND NOT ${sendInAudience}
  FOR UPDATE SKIP LOCKED)`;
const failStale = `UPDATE sends SET status = 'failed', updated_at = $1,
    response = 'not retried: no longer in the audience (inactive, suppressed, deleted or batch deactivated)'
  WHERE id IN (SELECT id FROM stale)`;
const staleRetries = `WITH ${staleCte} ${failStale}`;
/** The same, with the people waiting on those rows stopped (a campaign with follow-ups). */
const staleRetriesAndStops = `WITH ${staleCte}, ${staleStopsCte} ${failStale}`;

/**
 * Contacts of the audience after $1 the campaign ($2) has no row for, by id, at most $3. Each is
 * held against deletion until its row (which references it) is written; a row another instance
 * writes meanwhile makes the insert skip it (ON CONFLICT), so nobody is claimed twice.
 */
const freshSql = `SELECT c.id AS contact_id, c.email, c.email_hash, c.name, c.company, c.position ${audienceFrom}
    AND c.id > $1 AND NOT EXISTS (SELECT 1 FROM sends x WHERE x.campaign_id = $2 AND x.contact_id = c.id)
  ORDER BY c.id LIMIT $3 FOR KEY SHARE OF c`;

// A message without a sending identity leaves the account as it was (coalesce).
const sentSql = `UPDATE sends x SET status = 'sent', attempts = x.attempts + 1, message_id = u.message_id,
    response = u.response, account = coalesce(u.account, x.account), updated_at = $1, next_attempt_at = NULL
  FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(id, message_id, response, account)
  WHERE x.id = u.id`;

/**
 * The send ledger over Postgres. Several instances may claim the same campaign at once: a claim
 * locks the retry rows and due people it takes (`FOR UPDATE SKIP LOCKED`, others skip them), and
 * new rows obey the unique (campaign, contact, step) index (`ON CONFLICT DO NOTHING`: a contact
 * another instance took is skipped and the next ones read), so each recipient goes to one claimer.
 */
export class PgSendStore implements SendStore {
  /** A sequence campaign's claims and person bookkeeping (a one-step campaign never uses them). */
  private readonly seq: SequenceClaims;

  /**
   * `claimer`: the instance this store claims rows for (their `claimed_by`, the lease); null (a
   * store built alone) claims for no instance.
   */
  constructor(
    private readonly db: PgDb,
    private readonly claimer: PgClaimer = null,
  ) {
    this.seq = new SequenceClaims(claimer);
  }

  async claim(
    c: ClaimTarget,
    limit: number,
    now: number,
    afterContactId: number,
    settled: SentResult[],
    retries = true,
  ): Promise<Claimed[]> {
    // An instance that lost its liveness connection looks dead to the others, who may take its
    // claims over: it settles what it sent, then refuses to claim (the engine tries again at the
    // next tick). An empty answer instead would read as "nobody left" and could complete the run.
    const mayClaim = this.claimer?.connected !== false;
    const claimed = await inTransaction(this.db.$client, async (tx) => {
      // Messages sent since the last claim are settled in the same commit.
      await this.markSent(tx, settled, now);
      if (limit <= 0 || !mayClaim) return [];
      const seq = c.sequence ? { ...c, sequence: c.sequence } : null;
      const out: Claimed[] = [];
      if (retries) {
        await tx.query(seq && seq.sequence.steps > 1 ? staleRetriesAndStops : staleRetries, [now, c.id]);
        if (seq) out.push(...(await this.seq.retries(tx, c, now, limit)));
        else
          for (const r of await claimDueRetries(tx, this.claimer, c.id, now, limit))
            out.push(toClaimed(r.id, r, r.attempts, true));
      }
      if (seq && out.length < limit && seq.sequence.steps > 1)
        out.push(...(await this.seq.followUps(tx, seq, limit - out.length, now)));
      // A completed campaign sending again (retryFailed) takes only its re-queued rows.
      if (out.length < limit && c.completedAt === null)
        out.push(...(await this.fresh(tx, c, limit - out.length, now, afterContactId)));
      return out;
    });
    if (!mayClaim && limit > 0)
      throw new Error('not connected to the cluster: claiming waits for the connection');
    return claimed;
  }

  async settleSent(results: SentResult[], now: number): Promise<void> {
    if (results.length > 0) await inTransaction(this.db.$client, (tx) => this.markSent(tx, results, now));
  }

  async settleRetry(
    sendId: number,
    attempts: number,
    nextAttemptAt: number | null,
    response: string,
    now: number,
  ): Promise<void> {
    const status = nextAttemptAt === null ? 'failed' : 'retry';
    await this.db.$client.query(
      `UPDATE sends SET status = $1, attempts = $2, next_attempt_at = $3, response = $4, updated_at = $5 WHERE id = $6`,
      [status, attempts, nextAttemptAt, response.slice(0, 500), now, sendId],
    );
  }

  async settleUnknown(sendId: number, response: string, now: number): Promise<void> {
    await this.db.$client.query(
      `UPDATE sends SET status = 'unknown', attempts = attempts + 1, response = $1, updated_at = $2, next_attempt_at = NULL
       WHERE id = $3`,
      [response.slice(0, 500), now, sendId],
    );
  }

  /**
   * Only rows whose claimer is no longer alive (its process stopped or died, or no instance named):
   * another live instance may be sending its rows right now. Served by sends_claimed (the rows in
   * flight only), so the sweep can run every minute; a second sweeper waits on the first's rows and
   * then finds them no longer claimed.
   */
  async markClaimedUnknown(now: number): Promise<number> {
    const result = await this.db.$client.query(
      `UPDATE sends SET status = 'unknown', attempts = attempts + 1,
         response = 'the app stopped during delivery: not re-sent', updated_at = $1
       WHERE status = 'claimed' AND ${leaseLapsedSql('sends.claimed_by')}`,
      [now],
    );
    return result.rowCount ?? 0;
  }

  async hasPendingWork(campaignId: string): Promise<boolean> {
    const r = await row<{ pending: boolean }>(
      this.db.$client,
      // Rows another instance has claimed count too: that instance is still sending them (they may
      // come back as retries), so the run is not over for this one; a dead instance's rows become
      // `unknown` at the next sweep, and then it is.
      `SELECT EXISTS (SELECT 1 FROM sends WHERE campaign_id = $1 AND status IN ('retry', 'claimed'))
         OR EXISTS (SELECT 1 FROM sequence_people WHERE campaign_id = $1 AND next_due_at IS NOT NULL) AS pending`,
      [campaignId],
    );
    return r?.pending === true;
  }

  async nextRetryAt(campaignId: string): Promise<number | null> {
    const r = await row<{ at: number | null }>(
      this.db.$client,
      `SELECT min(next_attempt_at) AS at FROM sends WHERE campaign_id = $1 AND status = 'retry'`,
      [campaignId],
    );
    return r?.at ?? null;
  }

  async countRun(campaignId: string, run: number): Promise<number> {
    const r = await row<{ n: number }>(
      this.db.$client,
      `SELECT count(*) AS n FROM sends WHERE campaign_id = $1 AND run = $2`,
      [campaignId, run],
    );
    return r?.n ?? 0;
  }

  async countSince(campaignId: string, since: number): Promise<number> {
    const r = await row<{ n: number }>(
      this.db.$client,
      `SELECT count(*) AS n FROM sends WHERE campaign_id = $1 AND claimed_at >= $2`,
      [campaignId, since],
    );
    return r?.n ?? 0;
  }

  async runStats(campaignId: string, run: number): Promise<{ attempted: number; bounced: number }> {
    const r = await row<{ attempted: number; bounced: number }>(
      this.db.$client,
      `SELECT count(*) FILTER (WHERE status IN ('sent', 'bounced', 'failed')) AS attempted,
              count(*) FILTER (WHERE status = 'bounced') AS bounced
       FROM sends WHERE campaign_id = $1 AND run = $2`,
      [campaignId, run],
    );
    return r ?? { attempted: 0, bounced: 0 };
  }

  /**
   * New people after `after`, by contact id, each with its row at step 1 (and its variant in a
   * sequence). Contacts another instance claimed meanwhile are skipped and the next ones read, so
   * a claim comes back short only when the audience has no one left after `after`.
   */
  private async fresh(
    tx: PgExec,
    c: ClaimTarget,
    limit: number,
    now: number,
    after: number,
  ): Promise<Claimed[]> {
    const out: Claimed[] = [];
    for (let from = after, need = limit; need > 0; need = limit - out.length) {
      const found = await rows<Candidate>(tx, freshSql, [from, c.id, need]);
      const people = found.map((r) => ({
        r,
        step: 1,
        variant: c.sequence ? c.sequence.variantOf(1, r.contact_id) : null,
      }));
      const ids = await insertStepRows(tx, this.claimer, c, people, now);
      people.forEach((p, i) => {
        const id = ids[i];
        if (id != null) out.push({ ...toClaimed(id, p.r, 0, false), variant: p.variant });
      });
      if (found.length < need) break;
      from = found[found.length - 1]!.contact_id;
    }
    return out;
  }

  /** Marks accepted messages sent (one statement), and records the sequence steps among them. */
  private async markSent(tx: PgExec, results: readonly SentResult[], now: number): Promise<void> {
    if (results.length === 0) return;
    // One statement changes a row once: a send id listed twice (never in practice) goes row by row.
    const groups =
      new Set(results.map((r) => r.sendId)).size === results.length ? [results] : results.map((r) => [r]);
    for (const g of groups)
      await tx.query(sentSql, [
        now,
        g.map((r) => r.sendId),
        g.map((r) => r.messageId),
        g.map((r) => r.response.slice(0, 500)),
        g.map((r) => r.account ?? null),
      ]);
    await this.seq.markSent(
      tx,
      results.flatMap((r) => (r.sequence ? [{ q: r.sequence, sendId: r.sendId }] : [])),
      now,
    );
  }
}

/**
 * Ledger writes other stores make inside their own transaction (the one module writing `sends`):
 * a hard bounce's settlement (the suppression store's bounce rule), a forget's erasure (the people
 * store).
 */

/** A hard bounce's ledger row becomes `bounced`, with its attempts and the answer (cut to 500). */
export async function markBounced(exec: PgExec, b: BouncedSend): Promise<void> {
  await exec.query(
    `UPDATE sends SET status = 'bounced', attempts = $1, response = $2, updated_at = $3 WHERE id = $4`,
    [b.attempts, b.response.slice(0, 500), b.at, b.sendId],
  );
}

/** Drops the SMTP answers (they may quote the address) of a person's ledger rows; how many rows. */
export async function eraseSendResponses(
  exec: PgExec,
  contactId: number | null,
  hash: Buffer,
): Promise<number> {
  const result =
    contactId != null
      ? await exec.query(`UPDATE sends SET response = NULL WHERE contact_id = $1 OR email_hash = $2`, [
          contactId,
          hash,
        ])
      : await exec.query(`UPDATE sends SET response = NULL WHERE email_hash = $1`, [hash]);
  return result.rowCount ?? 0;
}
