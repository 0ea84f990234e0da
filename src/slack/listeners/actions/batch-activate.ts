import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import type { SlackDeps } from '../../kit/context.js';
import { batchToggle } from './batch-toggle.js';

/** Activate button: this batch becomes the only active one; the view re-renders in place. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.batchActivate,
    batchToggle(deps, 'activate', (id) => `:white_check_mark: \`${id}\` is now the active batch.`),
  );
}
