import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { assertAdmin, type SlackDeps } from './context.js';

/** Sends a batch's CSV to the user as a direct message (files.uploadV2), never to a channel. */
export async function sendExport(
  deps: SlackDeps,
  client: WebClient,
  userId: string,
  batchId: string,
): Promise<string> {
  assertAdmin(deps, userId, 'export contacts');
  const batch = deps.services.batches.get(batchId);
  const parts: Buffer[] = [];
  for await (const chunk of deps.services.batches.exportCsv(batchId)) parts.push(Buffer.from(chunk));
  const dm = await client.conversations.open({ users: userId });
  const channelId = z.object({ channel: z.object({ id: z.string() }) }).parse(dm).channel.id;
  await client.files.uploadV2({
    channel_id: channelId,
    file: Buffer.concat(parts),
    filename: `${batch.id}.csv`,
    title: `${batch.name} (${batch.id})`,
    initial_comment: `Export of ${batch.id}: ${batch.contactCount} contacts.`,
  });
  deps.log.info({ module: 'slack', batchId, userId }, 'batch exported to user');
  return channelId;
}
