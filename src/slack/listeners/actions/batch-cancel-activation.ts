import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import { localTime } from '../../blocks/common.js';
import { batchAction } from '../../kit/batch-action.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';
import { detailsFor, listFor, scheduledView } from '../../views/batches.js';

/** "Cancel scheduled activation" (a batch's details) and the Cancel of `/batches scheduled`. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.batchCancelActivation,
    batchAction(deps, 'cancelling the scheduled activation', async (value, userId) => {
      assertAdmin(deps, userId, 'schedule activations');
      const cancelled = await deps.services.scheduledActivations.cancel(value.id ?? '', userId);
      return {
        notice: `:x: The activation of \`${cancelled.batchId}\` set for ${localTime(cancelled.at)} is cancelled.`,
        // The Cancel of `/batches scheduled` carries the list view at no page: that list re-renders.
        blocks: (v) =>
          v.view === 'list' && !v.page
            ? scheduledView(deps)
            : v.view === 'list' || v.view === 'home'
              ? listFor(deps, v)
              : detailsFor(deps, v, cancelled.batchId),
      };
    }),
  );
}
