import type { App } from '@slack/bolt';
import { z } from 'zod';
import { viewIds } from '../../blocks/action-ids.js';
import { localTime } from '../../blocks/common.js';
import { assertAdmin, failurePlainText, type SlackDeps } from '../../kit/context.js';
import { esc } from '../../kit/escape.js';
import { whenAction, whenBlock } from '../../views/schedule-modal.js';

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

/** The "Schedule activation" modal submitted: schedule it, then confirm by DM with how to cancel. */
export function register(app: App, deps: SlackDeps): void {
  app.view(viewIds.batchSchedule, async ({ ack, body, client }) => {
    const parsed = submission.safeParse(body);
    const at = parsed.success
      ? parsed.data.view.state.values[whenBlock]?.[whenAction]?.selected_date_time
      : null;
    if (!parsed.success || !at) {
      await ack({ response_action: 'errors', errors: { [whenBlock]: 'Pick a date and a time.' } });
      return;
    }
    const userId = parsed.data.user.id;
    let scheduled: Awaited<ReturnType<typeof deps.services.scheduledActivations.schedule>>;
    try {
      assertAdmin(deps, userId, 'schedule activations');
      const { id } = z.object({ id: z.string() }).parse(JSON.parse(parsed.data.view.private_metadata));
      scheduled = await deps.services.scheduledActivations.schedule(id, at * 1000, userId);
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
