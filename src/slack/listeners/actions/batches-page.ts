import type { App } from '@slack/bolt';
import { batchAction } from '../../action-kit.js';
import { actionIds } from '../../blocks/common.js';
import type { SlackDeps } from '../../context.js';
import { listFor } from '../../views.js';

/** Next page / Back to list: re-renders the list at the page the button carries. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.page,
    batchAction(deps, 'listing batches', () => ({ blocks: (v) => listFor(deps, v) })),
  );
}
