import type { App } from '@slack/bolt';
import { z } from 'zod';
import { errorBlocks, n, text } from '../../blocks/common.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
import { esc } from '../../escape.js';
import { respondReliably } from '../../respond.js';
import { retentionDeleteActionId } from '../../retention.js';

const body = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string().max(100) }).loose()).min(1),
  })
  .loose();

/** "Delete batch" under a retention proposal: deletes the inactive batch and its contacts (admins). */
export function register(app: App, deps: SlackDeps): void {
  app.action(retentionDeleteActionId, async ({ ack, body: raw, respond }) => {
    await ack();
    const b = body.parse(raw);
    const userId = b.user.id;
    const answer = respondReliably(respond);
    let said: string;
    try {
      assertAdmin(deps, userId, 'delete batches');
      const done = deps.services.retention.deleteBatch(b.actions[0]!.value, userId);
      said =
        `:wastebasket: <@${userId}> deleted batch *${esc(done.name)}* \`${done.batchId}\` and its ` +
        `${n(done.contacts)} contacts. Suppressions and the send ledger's hashes are kept.`;
    } catch (e) {
      const message = failureText(deps, e, 'deleting the batch');
      await answer({
        response_type: 'ephemeral',
        replace_original: false,
        text: `:warning: ${message}`,
        blocks: errorBlocks(message),
      });
      return;
    }
    await answer({ replace_original: true, text: 'Batch deleted', blocks: [text(said)] });
  });
}
