import type { App } from '@slack/bolt';
import { DomainError, isDomainError } from '../../../errors.js';
import { actionIds } from '../../blocks/action-ids.js';
import { replyGoneText, replyNoticeText } from '../../blocks/reply-notice.js';
import { noticeBlocks } from '../../flows/reply-notice.js';
import { actionListener } from '../../kit/action.js';
import { parseReplyValue } from '../../kit/button-value.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';

const choices = [
  ['interested', actionIds.replyInterested],
  ['not_interested', actionIds.replyNotInterested],
] as const;

/**
 * Interested / Not interested under a reply notice (admins): stores the contact's interest and
 * shows the choice and who made it in the notice, whose buttons stay so the choice can be changed.
 */
export function register(app: App, deps: SlackDeps): void {
  for (const [interest, actionId] of choices) {
    app.action(
      actionId,
      actionListener(deps, 'recording the choice', async (click) => {
        const id = parseReplyValue(click.value);
        assertAdmin(deps, click.userId, 'mark replies');
        const notice = await deps.services.mailbox
          .setInterest(id, interest, click.userId)
          .catch((e: unknown) => {
            // No contact any more (deleted or forgotten since the notice was posted).
            throw isDomainError(e) && e.code === 'not_found'
              ? new DomainError('not_found', replyGoneText)
              : e;
          });
        const decision = { kind: 'interest', interest, by: click.userId } as const;
        const blocks = await noticeBlocks(deps, notice, decision);
        return () => click.answer({ replace_original: true, text: replyNoticeText(notice), blocks });
      }),
    );
  }
}
