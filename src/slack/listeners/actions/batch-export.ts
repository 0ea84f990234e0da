import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import { sendExport } from '../../flows/exports.js';
import { batchAction } from '../../kit/batch-action.js';
import type { SlackDeps } from '../../kit/context.js';
import { detailsFor } from '../../views/batches.js';

/** Export CSV button: the file goes to the clicking user as a direct message. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.batchExport,
    batchAction(deps, 'exporting the batch', async (value, userId, click) => {
      const id = value.id ?? '';
      await sendExport(deps, click.client, userId, id);
      return {
        notice: ':inbox_tray: The CSV was sent to you as a direct message.',
        blocks: (v) => detailsFor(deps, v, id),
      };
    }),
  );
}
