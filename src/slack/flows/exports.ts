import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { ContactFilter } from '../../core/batches/contact-filter.js';
import { describeFilter } from '../../core/batches/contact-filter.js';
import { assertAdmin, type SlackDeps } from '../kit/context.js';
import { esc } from '../kit/escape.js';

/** Uploads CSV text to the user as a direct message (files.uploadV2), never to a channel. */
export async function uploadToUser(
  client: WebClient,
  userId: string,
  file: { csv: AsyncIterable<string>; filename: string; title: string; comment: string },
): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of file.csv) parts.push(Buffer.from(chunk));
  const dm = await client.conversations.open({ users: userId });
  const channelId = z.object({ channel: z.object({ id: z.string() }) }).parse(dm).channel.id;
  await client.files.uploadV2({
    channel_id: channelId,
    file: Buffer.concat(parts),
    filename: file.filename,
    title: file.title,
    initial_comment: file.comment,
  });
  return channelId;
}

/** Sends a batch's CSV (optionally filtered) to the user as a direct message. */
export async function sendExport(
  deps: SlackDeps,
  client: WebClient,
  userId: string,
  batchId: string,
  filter: ContactFilter = {},
): Promise<string> {
  assertAdmin(deps, userId, 'export contacts');
  const batch = await deps.services.batches.get(batchId);
  const described = describeFilter(filter);
  const channelId = await uploadToUser(client, userId, {
    csv: await deps.services.batches.exportCsv(batchId, filter),
    filename: `${batch.id}.csv`,
    title: `${batch.name} (${batch.id})`,
    // The comment is mrkdwn: the filter is the user's text, escaped so it pings nobody.
    comment: described
      ? `Export of ${batch.id}, contacts where ${esc(described)}.`
      : `Export of ${batch.id}: ${batch.contactCount} contacts.`,
  });
  deps.log.info({ module: 'slack', batchId, userId, filtered: Boolean(described) }, 'batch exported to user');
  return channelId;
}

/** The suppression list (address hashes, reason, when) to the user as a direct message. */
export async function sendSuppressionsExport(
  deps: SlackDeps,
  client: WebClient,
  userId: string,
): Promise<void> {
  assertAdmin(deps, userId, 'export the suppression list');
  await uploadToUser(client, userId, {
    csv: deps.services.contacts.exportSuppressions(),
    filename: 'suppressions.csv',
    title: 'Suppression list',
    comment: 'The suppression list: SHA-256 of each address never to be mailed again, why, who and when.',
  });
  deps.log.info({ module: 'slack', userId }, 'suppression list exported to user');
}

/** A campaign's per-recipient results to the user as a direct message. */
export async function sendCampaignResults(
  deps: SlackDeps,
  client: WebClient,
  userId: string,
  campaignId: string,
): Promise<void> {
  assertAdmin(deps, userId, 'export campaign results');
  const campaign = await deps.services.campaigns.get(campaignId);
  await uploadToUser(client, userId, {
    csv: await deps.services.campaigns.exportResults(campaignId),
    filename: `${campaign.id}-results.csv`,
    title: `${campaign.name}: results`,
    comment: `Per-recipient results of ${campaign.id}: who got it, when, the Message-ID and the status.`,
  });
  deps.log.info({ module: 'slack', campaignId, userId }, 'campaign results exported to user');
}
