import type { types } from '@slack/bolt';
import type { Batch } from '../../core/batches/batch.js';
import { viewIds } from '../blocks/action-ids.js';
import { esc } from '../kit/escape.js';

/** The input block and element of the modal's date-time picker, read back on submission. */
export const whenBlock = 'when';
export const whenAction = 'at';

/** "Schedule activation": Slack's date-time picker, which works in the person's own timezone. */
export function scheduleModal(batch: Batch): types.ModalView {
  return {
    type: 'modal',
    callback_id: viewIds.batchSchedule,
    private_metadata: JSON.stringify({ id: batch.id }),
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
  };
}
