import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import { batchAction } from '../../kit/batch-action.js';
import type { SlackDeps } from '../../kit/context.js';
import { detailsFor } from '../../views/batches.js';

/** Details / Show contacts: counts by status, first contacts, history (in place, or privately under an import). */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.batchDetails,
    batchAction(deps, 'showing the batch', (value) => {
      const id = value.id ?? '';
      return { blocks: (v) => detailsFor(deps, v, id) };
    }),
  );
}
