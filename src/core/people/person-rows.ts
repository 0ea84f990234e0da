import { desc, eq, or } from 'drizzle-orm';
import {
  batchEvents,
  batches,
  campaigns,
  contactHistory,
  contacts,
  sends,
  suppressions,
} from '../../db/schema.js';
import type { ContactStatus, CoreDeps } from '../types.js';

type Read = Pick<CoreDeps['db'], 'select'>;

export type SendRow = typeof sends.$inferSelect & { campaignName: string };
export type PersonRows = {
  email: string;
  hash: Buffer;
  contact: typeof contacts.$inferSelect | null;
  batch: typeof batches.$inferSelect | null;
  batchEvents: (typeof batchEvents.$inferSelect)[];
  history: (typeof contactHistory.$inferSelect)[];
  suppression: typeof suppressions.$inferSelect | null;
  /** Ledger rows of the contact or of its address hash (kept after a deletion), newest first. */
  sends: SendRow[];
  /** Campaigns, newest first (at most the limit given). */
  campaigns: (typeof campaigns.$inferSelect)[];
};

/** Everything the database holds about one normalized address (campaigns bounded by `campaignLimit`). */
export function loadPerson(db: Read, email: string, hash: Buffer, campaignLimit: number): PersonRows {
  const contact = db.select().from(contacts).where(eq(contacts.email, email)).get() ?? null;
  const batch = contact
    ? (db.select().from(batches).where(eq(batches.id, contact.batchId)).get() ?? null)
    : null;
  const events = batch
    ? db
        .select()
        .from(batchEvents)
        .where(eq(batchEvents.batchId, batch.id))
        .orderBy(batchEvents.at, batchEvents.id)
        .all()
    : [];
  const history = contact
    ? db
        .select()
        .from(contactHistory)
        .where(eq(contactHistory.contactId, contact.id))
        .orderBy(contactHistory.at, contactHistory.id)
        .all()
    : [];
  const suppression = db.select().from(suppressions).where(eq(suppressions.emailHash, hash)).get() ?? null;
  const ledger = db
    .select({ send: sends, campaignName: campaigns.name })
    .from(sends)
    .innerJoin(campaigns, eq(campaigns.id, sends.campaignId))
    .where(
      contact ? or(eq(sends.contactId, contact.id), eq(sends.emailHash, hash)) : eq(sends.emailHash, hash),
    )
    .orderBy(desc(sends.claimedAt), desc(sends.id))
    .all()
    .map((r) => ({ ...r.send, campaignName: r.campaignName }));
  const campaignRows = db
    .select()
    .from(campaigns)
    .orderBy(desc(campaigns.createdAt), desc(campaigns.id))
    .limit(campaignLimit)
    .all();
  return {
    email,
    hash,
    contact,
    batch,
    batchEvents: events,
    history,
    suppression,
    sends: ledger,
    campaigns: campaignRows,
  };
}

/** Whether the batch was the active one at `at`, from its activations and deactivations. */
export function wasActiveAt(
  batch: typeof batches.$inferSelect,
  events: PersonRows['batchEvents'],
  at: number,
): boolean {
  const toggles = events.filter((e) => e.kind === 'activated' || e.kind === 'deactivated');
  if (toggles.length === 0) {
    // No events (an old database): the batch's own dates.
    if (batch.activatedAt == null || batch.activatedAt > at) return false;
    return batch.deactivatedAt == null || batch.deactivatedAt > at || batch.deactivatedAt < batch.activatedAt;
  }
  const last = toggles.filter((e) => e.at <= at).at(-1);
  return last?.kind === 'activated';
}

/** The contact's status at `at` from its history, and the change that set it (null: never changed). */
export function statusAt(
  current: ContactStatus,
  history: PersonRows['history'],
  at: number,
): { status: string; by: { actor: string; at: number } | null } {
  const before = history.filter((h) => h.at <= at).at(-1);
  if (before) return { status: before.toStatus, by: { actor: before.actor, at: before.at } };
  const after = history[0];
  if (after?.fromStatus) return { status: after.fromStatus, by: null };
  return { status: current, by: null };
}
