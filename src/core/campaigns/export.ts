import { and, asc, eq, gt } from 'drizzle-orm';
import { campaigns, contacts, sends } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { csvPages, iso, pageSize } from '../csv-export.js';
import type { CoreDeps } from '../types.js';

export const campaignResultColumns = [
  'email',
  'name',
  'status',
  'attempts',
  'message_id',
  'sent_at',
  'unsubscribed_at',
  'response',
] as const;

/**
 * A campaign's per-recipient results: who got it, when, the Message-ID, the ledger status
 * (sent, bounced, failed, unknown, retry, claimed) and `attempts`, every delivery try (1 for a
 * message delivered at the first try; a 451 then a delivery is 2). A contact deleted since shows its address
 * hash instead of the address.
 */
export function exportCampaignResultsCsv(deps: CoreDeps, campaignId: string): AsyncIterable<string> {
  if (!deps.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.id, campaignId)).get())
    throw new DomainError('not_found', `No campaign ${campaignId}.`, { campaignId });
  return csvPages(
    campaignResultColumns,
    (after) =>
      deps.db
        .select({
          id: sends.id,
          email: contacts.email,
          hash: sends.emailHash,
          name: contacts.name,
          status: sends.status,
          attempts: sends.attempts,
          messageId: sends.messageId,
          updatedAt: sends.updatedAt,
          unsubscribedAt: sends.unsubscribedAt,
          response: sends.response,
        })
        .from(sends)
        .leftJoin(contacts, eq(contacts.id, sends.contactId))
        .where(and(eq(sends.campaignId, campaignId), gt(sends.id, after)))
        .orderBy(asc(sends.id))
        .limit(pageSize)
        .all(),
    (r) => [
      r.email ?? `sha256:${r.hash.toString('hex')}`,
      r.name,
      r.status,
      String(r.attempts),
      r.messageId,
      r.status === 'sent' ? iso(r.updatedAt) : '',
      iso(r.unsubscribedAt),
      r.response,
    ],
  );
}
