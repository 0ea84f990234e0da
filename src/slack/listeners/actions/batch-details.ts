import type { App } from '@slack/bolt';
import { batchAction } from '../../action-kit.js';
import { actionIds } from '../../blocks/common.js';
import type { SlackDeps } from '../../context.js';
import { detailsFor } from '../../views.js';

/** Details / Show contacts: counts by status, first contacts, history (in place, or privately under an import). */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.details,
    batchAction(deps, 'showing the batch', (value) => {
      const id = value.id ?? '';
      return { blocks: (v) => detailsFor(deps, v, id) };
    }),
  );
}
