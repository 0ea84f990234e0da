import type { App } from '@slack/bolt';
import { DomainError } from '../../../errors.js';
import { actionIds } from '../../blocks/action-ids.js';
import { whyBlocks } from '../../blocks/people.js';
import { replyGoneText } from '../../blocks/reply-notice.js';
import { actionListener } from '../../kit/action.js';
import { parseReplyValue } from '../../kit/button-value.js';
import type { SlackDeps } from '../../kit/context.js';

/** "Why" under a reply notice: the sender's `/contacts why` answer, only to the person who clicked. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.replyWhy,
    actionListener(deps, 'explaining the contact', async (click) => {
      const id = parseReplyValue(click.value);
      // A forget erases the reply's address with the rest of the person.
      const from = (await deps.services.mailbox.notice(id))?.from;
      if (!from) throw new DomainError('not_found', replyGoneText);
      const blocks = whyBlocks(await deps.services.people.why(from));
      return () =>
        click.answer({ response_type: 'ephemeral', replace_original: false, text: 'Why (not)', blocks });
    }),
  );
}
