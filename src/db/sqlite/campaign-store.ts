import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, lte, or } from 'drizzle-orm';
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
import type { Db } from '../client.js';
import { campaignEvents, campaigns, contacts, sends } from '../schema.js';
import { sendInAudience } from './audience-sql.js';
import { CountReader } from './count-reader.js';
import type { CountThread } from './count-thread.js';
import { SendCounts } from './send-counts.js';
import { stopSequences } from './sequence-rows.js';
import { insertWebhooks } from './webhook-rows.js';

/**
 * The campaigns table over SQLite; statements the send engine or every detail reads are prepared
 * once. With a CountThread (the app), a campaign's figures are counted in its worker thread.
 */
export class SqliteCampaignStore implements CampaignStore {
  private readonly s;
  private readonly counts: SendCounts;
  private readonly reader: CountReader;
  constructor(
    private readonly db: Db,
    private readonly thread: CountThread | null = null,
  ) {
    const sqlite = db.$client;
    this.counts = new SendCounts(sqlite);
    this.reader = new CountReader(sqlite);
    this.s = {
      status: sqlite.prepare<[string], { status: CampaignStatus }>(
        'SELECT status FROM campaigns WHERE id = ?',
      ),
      // Only people still in the audience (not unsubscribed, suppressed, deleted or in an inactive
      // batch); the ledger's staleRetries still drops any who leave it before the retry is sent.
      requeue: sqlite.prepare<[number, number, string, string, string]>(
        `UPDATE sends SET status = 'retry', attempts = 0, next_attempt_at = ?, updated_at = ?
         WHERE campaign_id = ? AND status IN (?, ?) AND ${sendInAudience}`,
      ),
      tell: sqlite.prepare<[string, number, string]>(
        `UPDATE campaigns SET status_reason = ?, updated_at = ? WHERE id = ? AND status = 'sending' AND status_reason IS NULL`,
      ),
      historyCount: sqlite.prepare<[string], { n: number }>(
        'SELECT count(*) AS n FROM campaign_events WHERE campaign_id = ?',
      ),
      clear: sqlite.prepare<[number, string, string]>(
        `UPDATE campaigns SET status_reason = NULL, updated_at = ? WHERE id = ? AND status_reason LIKE ? || '%'`,
      ),
    };
  }

  async find(id: string): Promise<CampaignRecord | null> {
    return this.db.select().from(campaigns).where(eq(campaigns.id, id)).get() ?? null;
  }

  async statusOf(id: string): Promise<CampaignStatus | null> {
    return this.status(id);
  }

  async list(query: {
    status?: CampaignStatus | undefined;
    before?: { createdAt: number; id: string } | undefined;
    limit: number;
  }): Promise<CampaignRecord[]> {
    const b = query.before;
    return this.db
      .select()
      .from(campaigns)
      .where(
        and(
          query.status ? eq(campaigns.status, query.status) : undefined,
          b
            ? or(
                lt(campaigns.createdAt, b.createdAt),
                and(eq(campaigns.createdAt, b.createdAt), lt(campaigns.id, b.id)),
              )
            : undefined,
        ),
      )
      .orderBy(desc(campaigns.createdAt), desc(campaigns.id))
      .limit(query.limit)
      .all();
  }

  async listByStatus(status: CampaignStatus): Promise<CampaignRecord[]> {
    return this.db.select().from(campaigns).where(eq(campaigns.status, status)).all();
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
      )
      .all();
  }

  async insert(campaign: NewCampaign, events: readonly CampaignHistoryEntry[] = []): Promise<void> {
    this.db.$client.transaction(() => {
      this.db.insert(campaigns).values(campaign).run();
      for (const e of events) this.record(campaign.id, e);
    })();
  }

  async update(
    id: string,
    patch: CampaignPatch,
    guard: CampaignGuard = {},
    event?: CampaignHistoryEntry,
  ): Promise<boolean> {
    if (patch.status !== 'cancelled' && !event) return this.apply(id, patch, guard);
    // The history line commits with the change; cancelled: everyone still waiting for a follow-up stops too.
    return this.db.$client.transaction(() => {
      const done = this.apply(id, patch, guard);
      if (done && patch.status === 'cancelled')
        stopSequences(this.db, { campaign: id }, 'cancelled', patch.updatedAt ?? Date.now());
      if (done && event) this.record(id, event);
      return done;
    })();
  }

  async complete(
    id: string,
    patch: CampaignPatch,
    webhooks?: (counts: SendStatusCount[]) => WebhookDelivery[],
    event?: CampaignHistoryEntry,
  ): Promise<boolean> {
    return this.db.$client.transaction(() => {
      const done = this.apply(id, patch, { status: ['sending'] });
      // The final figures, read in the transaction that ends the run: they are the ones reported.
      if (done && webhooks) insertWebhooks(this.db, webhooks(this.counts.byStatus(id)));
      if (done && event) this.record(id, event);
      return done;
    })();
  }

  async setNotice(id: string, text: string, now: number): Promise<boolean> {
    return this.s.tell.run(text, now, id).changes > 0;
  }

  async clearNotice(id: string, prefix: string, now: number): Promise<boolean> {
    return this.s.clear.run(now, id, prefix).changes > 0;
  }

  async sendCounts(id: string): Promise<SendStatusCount[]> {
    return this.thread ? this.thread.sends(id) : this.counts.byStatus(id);
  }

  async remaining(id: string): Promise<number> {
    return this.thread ? this.thread.remaining(id) : this.reader.remaining(id);
  }

  async requeue(
    id: string,
    statuses: readonly SendStatus[],
    now: number,
    reopen: CampaignPatch,
    event?: CampaignHistoryEntry,
  ): Promise<RequeueResult> {
    const [a = 'failed', b = a] = statuses;
    return this.db.$client.transaction((): RequeueResult => {
      const status = this.status(id);
      if (status === null) return { kind: 'missing' };
      if (status !== 'completed') return { kind: 'not_completed', status };
      const count = this.s.requeue.run(now, now, id, a, b).changes;
      if (count === 0) return { kind: 'nothing' };
      this.apply(id, reopen, { status: ['completed'] });
      if (event) this.record(id, event);
      return { kind: 'requeued', count };
    })();
  }

  async history(id: string, limit: number): Promise<{ entries: CampaignHistoryEntry[]; total: number }> {
    return this.db.$client.transaction(() => {
      const total = this.s.historyCount.get(id)?.n ?? 0;
      const entries = this.db
        .select({
          at: campaignEvents.at,
          actor: campaignEvents.actor,
          kind: campaignEvents.kind,
          detail: campaignEvents.detail,
        })
        .from(campaignEvents)
        .where(eq(campaignEvents.campaignId, id))
        .orderBy(desc(campaignEvents.id))
        .limit(limit)
        .all();
      return { entries: entries.reverse(), total };
    })();
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
      .limit(limit)
      .all();
  }

  /** One history line (synchronous: inside the transaction of the change it records). */
  private record(id: string, e: CampaignHistoryEntry): void {
    const row = { campaignId: id, at: e.at, actor: e.actor, kind: e.kind, detail: e.detail };
    this.db.insert(campaignEvents).values(row).run();
  }

  private status(id: string): CampaignStatus | null {
    return this.s.status.get(id)?.status ?? null;
  }

  /** The conditional update (synchronous: also runs inside this store's transactions). */
  private apply(id: string, patch: CampaignPatch, guard: CampaignGuard): boolean {
    const where = and(
      eq(campaigns.id, id),
      guard.status ? inArray(campaigns.status, [...guard.status]) : undefined,
      guard.unapproved ? isNull(campaigns.approvedBy) : undefined,
    );
    return this.db.update(campaigns).set(patch).where(where).run().changes === 1;
  }
}
