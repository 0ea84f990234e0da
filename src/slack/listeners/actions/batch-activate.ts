import type { App } from '@slack/bolt';
import { batchToggle } from '../../action-kit.js';
import { actionIds } from '../../blocks/common.js';
import type { SlackDeps } from '../../context.js';

/** Activate button: this batch becomes the only active one; the view re-renders in place. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.activate,
    batchToggle(deps, 'activate', (id) => `:white_check_mark: \`${id}\` is now the active batch.`),
  );
}
