import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, or } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type {
  CampaignGuard,
  CampaignHistoryEntry,
  CampaignPatch,
  CampaignRecord,
  CampaignResultRow,
  CampaignStore,
  NewCampaign,
  RequeueResult,
  SendStatusCount,
} from '../../core/campaigns/campaign-store.js';
import type { CampaignStatus, SendStatus } from '../../core/types.js';
import type { WebhookDelivery } from '../../core/webhooks/webhook-store.js';
import { sendInAudience } from './audience-sql.js';
import { inSnapshot, inTransaction, type PgDb, type PgExec, row, rows } from './client.js';
import { CountReader } from './count-reader.js';
import { newestFirst, olderThan } from './pagination-sql.js';
import { campaigns, contacts, sends } from './schema.js';
import { SendCounts } from './send-counts.js';
import { stopSequences } from './sequence-rows.js';
import { insertWebhooks } from './webhook-rows.js';

/** Drizzle over the pool or over one transaction's client: what the conditional update runs on. */
type Writer = Pick<NodePgDatabase, 'update'>;

/**
 * The campaigns table over Postgres. Several instances may share the database, so every status
 * change is one conditional UPDATE (Postgres re-checks its WHERE on the row once a concurrent
 * change to it commits: of two moves from the same status, exactly one applies), and a change
 * that reads the status first (requeue) locks the row with FOR UPDATE. Figures are counted
 * inline, exactly, at every call: no counting thread (a Postgres query does not block the loop).
 */
export class PgCampaignStore implements CampaignStore {
  private readonly counts: SendCounts;
  private readonly reader: CountReader;
  constructor(private readonly db: PgDb) {
    this.counts = new SendCounts(db.$client);
    this.reader = new CountReader(db.$client);
  }

  async find(id: string): Promise<CampaignRecord | null> {
    const [found] = await this.db.select().from(campaigns).where(eq(campaigns.id, id)).limit(1);
    return found ?? null;
  }

  async statusOf(id: string): Promise<CampaignStatus | null> {
    const r = await row<{ status: CampaignStatus }>(
      this.db.$client,
      'SELECT status FROM campaigns WHERE id = $1',
      [id],
    );
    return r?.status ?? null;
  }

  async list(query: {
    status?: CampaignStatus | undefined;
    before?: { createdAt: number; id: string } | undefined;
    limit: number;
  }): Promise<CampaignRecord[]> {
    const b = query.before;
    // Ids compared and ordered byte by byte, as SQLite does (pagination-sql.ts).
    return this.db
      .select()
      .from(campaigns)
      .where(
        and(
          query.status ? eq(campaigns.status, query.status) : undefined,
          olderThan(b ? [b.createdAt, b.id] : undefined, campaigns.createdAt, campaigns.id),
        ),
      )
      .orderBy(...newestFirst(campaigns.createdAt, campaigns.id))
      .limit(query.limit);
  }

  async listByStatus(status: CampaignStatus): Promise<CampaignRecord[]> {
    return this.db.select().from(campaigns).where(eq(campaigns.status, status));
  }

  async listDue(now: number): Promise<CampaignRecord[]> {
    return this.db
      .select()
      .from(campaigns)
      .where(
        and(
          eq(campaigns.status, 'scheduled'),
          eq(campaigns.awaitingConfirmation, false),
          // Two-person rule: a campaign that needs an approval waits (scheduled) until it has one.
          or(isNull(campaigns.approvalRequiredAt), isNotNull(campaigns.approvedBy)),
          isNotNull(campaigns.nextRunAt),
          lte(campaigns.nextRunAt, now),
        ),
      );
  }

  async insert(campaign: NewCampaign, events: readonly CampaignHistoryEntry[] = []): Promise<void> {
    await inTransaction(this.db.$client, async (tx) => {
      await drizzle(tx).insert(campaigns).values(campaign);
      for (const e of events) await record(tx, campaign.id, e);
    });
  }

  async update(
    id: string,
    patch: CampaignPatch,
    guard: CampaignGuard = {},
    event?: CampaignHistoryEntry,
  ): Promise<boolean> {
    if (patch.status !== 'cancelled' && !event) return apply(this.db, id, patch, guard);
    // The history line commits with the change; cancelled: everyone still waiting for a follow-up stops too.
    return inTransaction(this.db.$client, async (tx) => {
      const done = await apply(drizzle(tx), id, patch, guard);
      if (done && patch.status === 'cancelled')
        await stopSequences(tx, { campaign: id }, 'cancelled', patch.updatedAt ?? Date.now());
      if (done && event) await record(tx, id, event);
      return done;
    });
  }

  async complete(
    id: string,
    patch: CampaignPatch,
    webhooks?: (counts: SendStatusCount[]) => WebhookDelivery[],
    event?: CampaignHistoryEntry,
  ): Promise<boolean> {
    return inTransaction(this.db.$client, async (tx) => {
      const done = await apply(drizzle(tx), id, patch, { status: ['sending'] });
      // The final figures, read in the transaction that ends the run: they are the ones reported.
      if (done && webhooks) await insertWebhooks(tx, webhooks(await new SendCounts(tx).byStatus(id)));
      if (done && event) await record(tx, id, event);
      return done;
    });
  }

  async setNotice(id: string, text: string, now: number): Promise<boolean> {
    const r = await this.db.$client.query(
      `UPDATE campaigns SET status_reason = $1, updated_at = $2
       WHERE id = $3 AND status = 'sending' AND status_reason IS NULL`,
      [text, now, id],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async clearNotice(id: string, prefix: string, now: number): Promise<boolean> {
    // SQLite's `LIKE ? || '%'`: case-insensitive, no escape character.
    const r = await this.db.$client.query(
      `UPDATE campaigns SET status_reason = NULL, updated_at = $1
       WHERE id = $2 AND status_reason ILIKE $3 || '%' ESCAPE ''`,
      [now, id, prefix],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async sendCounts(id: string): Promise<SendStatusCount[]> {
    return this.counts.byStatus(id);
  }

  async remaining(id: string): Promise<number> {
    return this.reader.remaining(id);
  }

  async requeue(
    id: string,
    statuses: readonly SendStatus[],
    now: number,
    reopen: CampaignPatch,
    event?: CampaignHistoryEntry,
  ): Promise<RequeueResult> {
    const [a = 'failed', b = a] = statuses;
    return inTransaction(this.db.$client, async (tx): Promise<RequeueResult> => {
      // The row stays locked until commit: another instance's requeue, pause or cancel waits, and
      // then finds the campaign as this one left it (SQLite's single writer gave the same order).
      const current = await row<{ status: CampaignStatus }>(
        tx,
        'SELECT status FROM campaigns WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!current) return { kind: 'missing' };
      if (current.status !== 'completed') return { kind: 'not_completed', status: current.status };
      // Only people still in the audience (not unsubscribed, suppressed, deleted or in an inactive
      // batch); the ledger's staleRetries still drops any who leave it before the retry is sent.
      const requeued = await tx.query(
        `UPDATE sends SET status = 'retry', attempts = 0, next_attempt_at = $1, updated_at = $1
         WHERE campaign_id = $2 AND status IN ($3, $4) AND ${sendInAudience}`,
        [now, id, a, b],
      );
      const count = requeued.rowCount ?? 0;
      if (count === 0) return { kind: 'nothing' };
      await apply(drizzle(tx), id, reopen, { status: ['completed'] });
      if (event) await record(tx, id, event);
      return { kind: 'requeued', count };
    });
  }

  async history(id: string, limit: number): Promise<{ entries: CampaignHistoryEntry[]; total: number }> {
    // One snapshot, so the total and the lines agree even while another instance adds one.
    return inSnapshot(this.db.$client, async (tx) => {
      const total = await row<{ n: number }>(
        tx,
        'SELECT count(*) AS n FROM campaign_events WHERE campaign_id = $1',
        [id],
      );
      const entries = await rows<CampaignHistoryEntry>(
        tx,
        `SELECT at, actor, kind, detail FROM campaign_events WHERE campaign_id = $1
         ORDER BY id DESC LIMIT $2`,
        [id, limit],
      );
      return { entries: entries.reverse(), total: total?.n ?? 0 };
    });
  }

  async results(id: string, afterId: number, limit: number): Promise<CampaignResultRow[]> {
    return this.db
      .select({
        id: sends.id,
        email: contacts.email,
        emailHash: sends.emailHash,
        name: contacts.name,
        status: sends.status,
        attempts: sends.attempts,
        messageId: sends.messageId,
        updatedAt: sends.updatedAt,
        unsubscribedAt: sends.unsubscribedAt,
        response: sends.response,
        repliedAt: sends.repliedAt,
        complainedAt: sends.complainedAt,
        softBouncedAt: sends.softBouncedAt,
        interest: contacts.interest,
      })
      .from(sends)
      .leftJoin(contacts, eq(contacts.id, sends.contactId))
      .where(and(eq(sends.campaignId, id), gt(sends.id, afterId)))
      .orderBy(asc(sends.id))
      .limit(limit);
  }
}

/** One history line, inside the transaction of the change it records. */
async function record(tx: PgExec, id: string, e: CampaignHistoryEntry): Promise<void> {
  await tx.query(
    'INSERT INTO campaign_events (campaign_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)',
    [id, e.at, e.actor, e.kind, e.detail],
  );
}

/**
 * The conditional update, one statement: under READ COMMITTED, a concurrent change to the same row
 * makes this one wait for its commit and then test the guard against the row as it left it.
 */
async function apply(on: Writer, id: string, patch: CampaignPatch, guard: CampaignGuard): Promise<boolean> {
  const where = and(
    eq(campaigns.id, id),
    guard.status ? inArray(campaigns.status, [...guard.status]) : undefined,
    guard.unapproved ? isNull(campaigns.approvedBy) : undefined,
  );
  const r = await on.update(campaigns).set(patch).where(where);
  return r.rowCount === 1;
}
