import type { App } from '@slack/bolt';
import { z } from 'zod';
import { batchAction, tellClicker } from '../../action-kit.js';
import { actionIds, localTime } from '../../blocks/common.js';
import { assertAdmin, failurePlainText, failureText, type SlackDeps } from '../../context.js';
import { esc } from '../../escape.js';
import { detailsFor, listFor, parseButtonValue, scheduledView } from '../../views.js';

export const scheduleModalCallback = 'batch_schedule_activation_modal';
const whenBlock = 'when';
const whenAction = 'at';

const buttonClick = z
  .object({
    trigger_id: z.string(),
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string().optional() }).loose()).min(1),
  })
  .loose();

const submission = z
  .object({
    user: z.object({ id: z.string() }),
    view: z
      .object({
        private_metadata: z.string(),
        state: z.object({
          values: z.record(
            z.string(),
            z.record(z.string(), z.object({ selected_date_time: z.number().nullish() }).loose()),
          ),
        }),
      })
      .loose(),
  })
  .loose();

/**
 * The Details view's "Schedule activation" (a modal with Slack's date-time picker, which works in
 * the person's own timezone) and "Cancel scheduled activation" buttons, also in `/batches scheduled`.
 */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.cancelActivation,
    batchAction(deps, 'cancelling the scheduled activation', (value, userId) => {
      assertAdmin(deps, userId, 'schedule activations');
      const cancelled = deps.services.scheduledActivations.cancel(value.id ?? '', userId);
      return {
        notice: `:x: The activation of \`${cancelled.batchId}\` set for ${localTime(cancelled.at)} is cancelled.`,
        // The Cancel of `/batches scheduled` carries the list view at no page: that list re-renders.
        blocks: (v) =>
          v.view === 'list' && !v.page
            ? scheduledView(deps)
            : v.view === 'list' || v.view === 'home'
              ? listFor(deps, v)
              : detailsFor(deps, v, cancelled.batchId),
      };
    }),
  );

  app.action(actionIds.scheduleActivation, async ({ ack, body, client, respond }) => {
    await ack();
    try {
      const click = buttonClick.parse(body);
      assertAdmin(deps, click.user.id, 'schedule activations');
      const id = parseButtonValue(click.actions[0]!.value).id ?? '';
      const batch = deps.services.batches.get(id);
      await client.views.open({
        trigger_id: click.trigger_id,
        view: {
          type: 'modal',
          callback_id: scheduleModalCallback,
          private_metadata: JSON.stringify({ id }),
          title: { type: 'plain_text', text: 'Schedule activation' },
          submit: { type: 'plain_text', text: 'Schedule' },
          close: { type: 'plain_text', text: 'Cancel' },
          blocks: [
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text: `*${esc(batch.name)}* \`${batch.id}\` becomes the only active batch at this time (your timezone).`,
              },
            },
            {
              type: 'input',
              block_id: whenBlock,
              label: { type: 'plain_text', text: 'Activate at' },
              element: { type: 'datetimepicker', action_id: whenAction },
            },
          ],
        },
      });
    } catch (e) {
      await tellClicker(deps, { body, client, respond }, failureText(deps, e, 'opening the schedule'));
    }
  });

  app.view(scheduleModalCallback, async ({ ack, body, client }) => {
    const parsed = submission.safeParse(body);
    const at = parsed.success
      ? parsed.data.view.state.values[whenBlock]?.[whenAction]?.selected_date_time
      : null;
    if (!parsed.success || !at) {
      await ack({ response_action: 'errors', errors: { [whenBlock]: 'Pick a date and a time.' } });
      return;
    }
    const userId = parsed.data.user.id;
    let scheduled: ReturnType<typeof deps.services.scheduledActivations.schedule>;
    try {
      assertAdmin(deps, userId, 'schedule activations');
      const { id } = z.object({ id: z.string() }).parse(JSON.parse(parsed.data.view.private_metadata));
      scheduled = deps.services.scheduledActivations.schedule(id, at * 1000, userId);
    } catch (e) {
      // A modal's errors are plain text: no escaping, no mentions.
      await ack({
        response_action: 'errors',
        errors: { [whenBlock]: failurePlainText(deps, e, 'scheduling') },
      });
      return;
    }
    await ack();
    await client.chat
      .postMessage({
        channel: userId,
        text: `:calendar: \`${scheduled.batchId}\` (${esc(scheduled.batchName)}) will become the active batch on ${localTime(scheduled.at)}. Cancel with \`/batches cancel-activation ${scheduled.batchId}\`.`,
      })
      .catch((err: unknown) => deps.log.warn({ err }, 'schedule confirmation not posted'));
  });
}
