import type { App } from '@slack/bolt';
import { batchToggle } from '../../action-kit.js';
import { actionIds } from '../../blocks/common.js';
import type { SlackDeps } from '../../context.js';

/** Deactivate button: no batch stays active; the view re-renders in place. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.deactivate,
    batchToggle(
      deps,
      'deactivate',
      (id) => `:white_circle: \`${id}\` is inactive; no batch receives campaigns until one is activated.`,
    ),
  );
}
