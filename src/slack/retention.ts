import type { WebClient } from '@slack/web-api';
import type { SlackConfig } from '../config.js';
import type { Services } from '../core/index.js';
import type { RetentionProposal } from '../core/people/retention.js';
import type { Logger } from '../logger.js';
import { button, type KnownBlock, localTime, n, text } from './blocks/common.js';
import { esc } from './escape.js';

/** The "Delete batch" button of a retention proposal; its value is the batch id. */
export const retentionDeleteActionId = 'retention_delete_batch';

export function proposalBlocks(p: RetentionProposal, days: number): KnownBlock[] {
  return [
    text(
      `:hourglass: Batch *${esc(p.name)}* \`${p.batchId}\` (${n(p.contactCount)} contacts) has been inactive since ` +
        `${localTime(p.since)}, longer than RETENTION_DAYS (${days} days). Delete it and its contacts? ` +
        'Suppressions and the ledger’s hashes stay. Nothing is deleted unless someone clicks.',
    ),
    { type: 'actions', elements: [button('Delete batch', retentionDeleteActionId, p.batchId, 'danger')] },
  ];
}

/**
 * The daily retention tick: one message per batch due (to SLACK_NOTIFY_CHANNEL, else each admin
 * by DM) with a Delete button; a batch is remembered as proposed only once its message is posted.
 */
export async function proposeRetention(
  ctx: { services: Services; client: WebClient; slack: SlackConfig; log: Logger },
  days: number,
): Promise<number> {
  const log = ctx.log.child({ module: 'retention' });
  const to = ctx.slack.notifyChannel ? [ctx.slack.notifyChannel] : ctx.slack.adminUsers;
  const due = ctx.services.retention.due(days);
  if (due.length === 0) return 0;
  if (to.length === 0) {
    log.warn(
      { batches: due.length },
      'batches past RETENTION_DAYS, but no SLACK_NOTIFY_CHANNEL or admins to ask',
    );
    return 0;
  }
  let proposed = 0;
  for (const p of due) {
    let posted = false;
    for (const channel of to) {
      await ctx.client.chat
        .postMessage({ channel, text: `Delete batch ${esc(p.name)}?`, blocks: proposalBlocks(p, days) })
        .then(
          () => {
            posted = true;
          },
          (err: unknown) => log.warn({ err, batchId: p.batchId, channel }, 'retention proposal not posted'),
        );
    }
    if (posted) {
      ctx.services.retention.markProposed(p.batchId);
      proposed++;
    }
  }
  return proposed;
}
