import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import { batchAction } from '../../kit/batch-action.js';
import type { SlackDeps } from '../../kit/context.js';
import { listFor } from '../../views/batches.js';

/** Next page / Back to list: re-renders the list at the page the button carries. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.batchesPage,
    batchAction(deps, 'listing batches', () => ({ blocks: (v) => listFor(deps, v) })),
  );
}
