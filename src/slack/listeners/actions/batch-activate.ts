import type { App } from '@slack/bolt';
import { batchAction } from '../../action-kit.js';
import { actionIds } from '../../blocks/common.js';
import { assertAdmin, type SlackDeps } from '../../context.js';
import { detailsView, listView } from '../../views.js';

/** Activate button: this batch becomes the only active one; the view re-renders in place. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.activate,
    batchAction(deps, 'activating the batch', (value, userId) => {
      assertAdmin(deps, userId, 'activate batches');
      const batch = deps.services.batches.activate(value.id ?? '', userId);
      return {
        notice: `:white_check_mark: \`${batch.id}\` is now the active batch.`,
        blocks: (v) =>
          v.view === 'details' ? detailsView(deps, batch.id, v.page ?? null) : listView(deps, v.page ?? null),
      };
    }),
  );
}
