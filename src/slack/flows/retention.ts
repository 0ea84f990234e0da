import type { WebClient } from '@slack/web-api';
import type { SlackConfig } from '../../config.js';
import type { Services } from '../../core/index.js';
import type { Logger } from '../../logger.js';
import { proposalBlocks } from '../blocks/retention.js';
import { esc } from '../kit/escape.js';

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
  const due = await ctx.services.retention.due(days);
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
      await ctx.services.retention.markProposed(p.batchId);
      proposed++;
    }
  }
  return proposed;
}
