import type { App } from '@slack/bolt';
import { batchAction } from '../../action-kit.js';
import { actionIds } from '../../blocks/common.js';
import { assertAdmin, type SlackDeps } from '../../context.js';
import { detailsView, listView } from '../../views.js';

/** Deactivate button: no batch stays active; the view re-renders in place. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.deactivate,
    batchAction(deps, 'deactivating the batch', (value, userId) => {
      assertAdmin(deps, userId, 'deactivate batches');
      const batch = deps.services.batches.deactivate(value.id ?? '', userId);
      return {
        notice: `:white_circle: \`${batch.id}\` is inactive; no batch receives campaigns until one is activated.`,
        blocks: (v) =>
          v.view === 'details' ? detailsView(deps, batch.id, v.page ?? null) : listView(deps, v.page ?? null),
      };
    }),
  );
}
