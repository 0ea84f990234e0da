import { DomainError } from '../../errors.js';
import { csvPages, iso, pageSize } from '../csv-export.js';
import type { CampaignStore } from './campaign-store.js';

export const campaignResultColumns = [
  'email',
  'name',
  'status',
  'attempts',
  'message_id',
  'sent_at',
  'unsubscribed_at',
  'response',
  'replied_at',
  'complained_at',
  'soft_bounced_at',
  'interest',
] as const;

/**
 * A campaign's per-recipient results: who got it, when, the Message-ID, the ledger status
 * (sent, bounced, failed, unknown, retry, claimed) and `attempts`, every delivery try (1 for a
 * message delivered at the first try; a 451 then a delivery is 2). A contact deleted since shows its address
 * hash instead of the address. Then what the mailbox matched to the message (a reply, a spam
 * complaint, a soft bounce: when) and the contact's interest. Throws not_found before the stream starts.
 */
export async function exportCampaignResultsCsv(
  store: Pick<CampaignStore, 'find' | 'results'>,
  campaignId: string,
): Promise<AsyncIterable<string>> {
  if (!(await store.find(campaignId)))
    throw new DomainError('not_found', `No campaign ${campaignId}.`, { campaignId });
  return csvPages(
    campaignResultColumns,
    (after) => store.results(campaignId, after, pageSize),
    (r) => [
      r.email ?? `sha256:${r.emailHash.toString('hex')}`,
      r.name,
      r.status,
      String(r.attempts),
      r.messageId,
      r.status === 'sent' ? iso(r.updatedAt) : '',
      iso(r.unsubscribedAt),
      r.response,
      iso(r.repliedAt),
      iso(r.complainedAt),
      iso(r.softBouncedAt),
      r.interest,
    ],
  );
}
