import type { App } from '@slack/bolt';
import { DomainError } from '../../../errors.js';
import { actionIds } from '../../blocks/action-ids.js';
import { replyGoneText, replyNoticeText } from '../../blocks/reply-notice.js';
import { noticeBlocks } from '../../flows/reply-notice.js';
import { actionListener } from '../../kit/action.js';
import { parseReplyValue } from '../../kit/button-value.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';

/**
 * "Unsubscribe them" under a reply notice (admins): the sender is unsubscribed as through their
 * unsubscribe link (contact, suppression, the ledger row, the webhook), recorded as the clicker's
 * doing, and the notice says who did it.
 */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.replyUnsubscribe,
    actionListener(deps, 'unsubscribing them', async (click) => {
      const id = parseReplyValue(click.value);
      assertAdmin(deps, click.userId, 'unsubscribe people');
      // A forgotten contact's ledger row outlives it: nothing to unsubscribe, and no webhook to send.
      if (!(await deps.services.mailbox.notice(id))?.contactId)
        throw new DomainError('not_found', replyGoneText);
      const notice = await deps.services.mailbox.unsubscribeSender(id, click.userId);
      const blocks = await noticeBlocks(deps, notice, { kind: 'unsubscribed', by: click.userId });
      return () => click.answer({ replace_original: true, text: replyNoticeText(notice), blocks });
    }),
  );
}
