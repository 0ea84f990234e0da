import type { App } from '@slack/bolt';
import { z } from 'zod';
import { actionIds } from '../../blocks/action-ids.js';
import { text } from '../../blocks/common.js';
import { importResultBlocks, importUndoneBlocks, undoTooLateText } from '../../blocks/imports.js';
import { actionListener } from '../../kit/action.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';

/**
 * The Undo button's value. Its `previousId` (kept in messages posted before) is never trusted:
 * core knows which batch the import replaced.
 */
const undoValue = z.object({ batchId: z.string().max(100) });

/**
 * Undo under an import: while the imported batch is still the active one, the batch it replaced is
 * active again (or none, if there was none) and the message says so. Once another batch was made
 * active since, nothing changes: the clicker is told privately what is active and how to bring
 * back the previous batch.
 */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.importUndo,
    actionListener(deps, 'undoing the import', async (click) => {
      const { batchId } = undoValue.parse(JSON.parse(z.string().parse(click.value)));
      assertAdmin(deps, click.userId, 'undo imports');
      // Core knows the batch the import replaced (recorded at the import), never the button's word.
      const outcome = await deps.services.batches.undoImport(batchId, click.userId);
      if (outcome.kind === 'not_active') {
        const said = undoTooLateText(outcome);
        await click.answer({
          response_type: 'ephemeral',
          replace_original: false,
          text: said,
          blocks: [text(said)],
        });
        return null;
      }
      const { batch, previous } = outcome;
      const report = batch.report;
      const kept = report
        ? importResultBlocks({ batch, report, replaced: null })
            .filter((x) => x.type !== 'actions')
            .slice(1)
        : [];
      const blocks = [
        ...importUndoneBlocks(batch, previous),
        ...kept,
        text(`_Undone by <@${click.userId}>._`),
      ];
      // Undone: a Slack failure to say so is logged by Bolt, never answered as a failed undo.
      return () => click.answer({ replace_original: true, text: 'Import undone', blocks });
    }),
  );
}
