import type { App } from '@slack/bolt';
import { z } from 'zod';
import { tellClicker } from '../../action-kit.js';
import { actionIds, type KnownBlock, text } from '../../blocks/common.js';
import { importResultBlocks, importUndoneBlocks, undoTooLateText } from '../../blocks/imports.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
import { respondReliably } from '../../respond.js';

const undoValue = z.object({ batchId: z.string().max(100), previousId: z.string().max(100).nullable() });
const body = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string() }).loose()).min(1),
  })
  .loose();

/**
 * Undo under an import: while the imported batch is still the active one, the previous batch is
 * active again (or none, if there was none) and the message says so. Once another batch was
 * made active since, nothing changes: the clicker is told privately what is active and how to
 * bring back the previous batch.
 */
export function register(app: App, deps: SlackDeps): void {
  app.action(actionIds.undo, async ({ ack, body: raw, respond, client }) => {
    await ack();
    const b = body.parse(raw);
    const userId = b.user.id;
    const answer = respondReliably(respond);
    let blocks: KnownBlock[];
    try {
      const { batchId, previousId } = undoValue.parse(JSON.parse(b.actions[0]!.value));
      assertAdmin(deps, userId, 'undo imports');
      const outcome = deps.services.batches.undoImport(batchId, previousId, userId);
      if (outcome.kind === 'not_active') {
        const said = undoTooLateText(outcome);
        await answer({
          response_type: 'ephemeral',
          replace_original: false,
          text: said,
          blocks: [text(said)],
        });
        return;
      }
      const { batch, previous } = outcome;
      const report = batch.report;
      const kept = report
        ? importResultBlocks({ batch, report, replaced: null })
            .filter((x) => x.type !== 'actions')
            .slice(1)
        : [];
      blocks = [...importUndoneBlocks(batch, previous), ...kept, text(`_Undone by <@${userId}>._`)];
    } catch (e) {
      await tellClicker(deps, { body: raw, client, respond }, failureText(deps, e, 'undoing the import'));
      return;
    }
    // Undone: a Slack failure to say so is logged by Bolt, never answered as a failed undo.
    await answer({ replace_original: true, text: 'Import undone', blocks });
  });
}
