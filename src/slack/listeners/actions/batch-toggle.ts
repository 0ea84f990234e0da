import { batchAction } from '../../kit/batch-action.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';
import { detailsFor, listFor } from '../../views/batches.js';

/** Activate / Deactivate buttons: the same flow, one verb apart; the view re-renders in place. */
export function batchToggle(
  deps: SlackDeps,
  verb: 'activate' | 'deactivate',
  notice: (id: string) => string,
) {
  return batchAction(
    deps,
    `${verb === 'activate' ? 'activating' : 'deactivating'} the batch`,
    async (value, userId) => {
      assertAdmin(deps, userId, `${verb} batches`);
      const batch = await deps.services.batches[verb](value.id ?? '', userId);
      return {
        notice: notice(batch.id),
        blocks: (v) =>
          v.view === 'list' || v.view === 'home' ? listFor(deps, v) : detailsFor(deps, v, batch.id),
      };
    },
  );
}
