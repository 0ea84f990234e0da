import type { App } from '@slack/bolt';
import { batchAction } from '../../action-kit.js';
import { actionIds } from '../../blocks/common.js';
import type { SlackDeps } from '../../context.js';
import { sendExport } from '../../export.js';
import { detailsFor } from '../../views.js';

/** Export CSV button: the file goes to the clicking user as a direct message. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.export,
    batchAction(deps, 'exporting the batch', async (value, userId, args) => {
      const id = value.id ?? '';
      await sendExport(deps, args.client, userId, id);
      return {
        notice: ':inbox_tray: The CSV was sent to you as a direct message.',
        blocks: (v) => detailsFor(deps, v, id),
      };
    }),
  );
}
