import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import type { SlackDeps } from '../../kit/context.js';
import { batchToggle } from './batch-toggle.js';

/** Deactivate button: no batch stays active; the view re-renders in place. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.batchDeactivate,
    batchToggle(
      deps,
      'deactivate',
      (id) => `:white_circle: \`${id}\` is inactive; no batch receives campaigns until one is activated.`,
    ),
  );
}
