import type { App } from '@slack/bolt';
import { actionIds } from '../../blocks/action-ids.js';
import { actionListener } from '../../kit/action.js';
import { parseButtonValue } from '../../kit/button-value.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';
import { scheduleModal } from '../../views/schedule-modal.js';

/**
 * The Details view's "Schedule activation": a modal with Slack's date-time picker (its submission
 * is listeners/views/batch-schedule.ts).
 */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.batchScheduleActivation,
    actionListener(deps, 'opening the schedule', async (click) => {
      assertAdmin(deps, click.userId, 'schedule activations');
      const batch = await deps.services.batches.get(parseButtonValue(click.value).id ?? '');
      await click.client.views.open({ trigger_id: click.triggerId ?? '', view: scheduleModal(batch) });
      return null;
    }),
  );
}
