import type { App } from '@slack/bolt';
import { z } from 'zod';
import { DomainError } from '../../../errors.js';
import { actionIds } from '../../blocks/action-ids.js';
import { whyBlocks } from '../../blocks/people.js';
import { replyNoticeText } from '../../blocks/reply-notice.js';
import { contactSequenceBlocks } from '../../blocks/sequences.js';
import { noticeBlocks } from '../../flows/reply-notice.js';
import { actionListener } from '../../kit/action.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';

const stopValue = z.object({
  campaignId: z.string().min(1).max(100),
  contactId: z.number().int().positive(),
  notice: z.number().int().positive().optional(),
});

function parseStopValue(raw: string | undefined): z.infer<typeof stopValue> {
  try {
    return stopValue.parse(JSON.parse(raw ?? ''));
  } catch {
    throw new DomainError(
      'invalid_input',
      'This button is not one I can read any more: nothing was changed.',
    );
  }
}

/**
 * "Stop sequence" (admins), under a reply notice or in `/contacts why`: the person gets no more
 * follow-ups of that campaign, and the message, drawn again, says who stopped it.
 */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.sequenceStop,
    actionListener(deps, 'stopping the sequence', async (click) => {
      const v = parseStopValue(click.value);
      assertAdmin(deps, click.userId, 'stop sequences');
      const person = await deps.services.sequences.stop(v.campaignId, v.contactId, click.userId);
      const notice = v.notice ? await deps.services.mailbox.notice(v.notice) : null;
      if (notice) {
        const blocks = await noticeBlocks(deps, notice, undefined, click.userId);
        return () => click.answer({ replace_original: true, text: replyNoticeText(notice), blocks });
      }
      const why = await deps.services.people.why(person.email);
      const sequences = await deps.services.sequences.ofContact(v.contactId);
      const stopped = { campaignId: v.campaignId, by: click.userId };
      const blocks = [...whyBlocks(why), ...contactSequenceBlocks(sequences, stopped)];
      return () => click.answer({ replace_original: true, text: 'Why (not)', blocks });
    }),
  );
}
