import type { App } from '@slack/bolt';
import { z } from 'zod';
import { errorBlocks, text } from '../../blocks/common.js';
import { forget, forgetActionId } from '../../contacts/rights.js';
import { failureText, type SlackDeps } from '../../context.js';
import { respondReliably } from '../../respond.js';

const body = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string().max(320) }).loose()).min(1),
  })
  .loose();

/** The Forget button of `/contacts forget`: erases the person, then replaces the question with what was erased. */
export function register(app: App, deps: SlackDeps): void {
  app.action(forgetActionId, async ({ ack, body: raw, respond }) => {
    await ack();
    const b = body.parse(raw);
    const answer = respondReliably(respond);
    let said: string;
    try {
      said = forget(deps, b.user.id, b.actions[0]!.value);
    } catch (e) {
      const message = failureText(deps, e, 'erasing the person');
      await answer({
        response_type: 'ephemeral',
        replace_original: false,
        text: `:warning: ${message}`,
        blocks: errorBlocks(message),
      });
      return;
    }
    await answer({ replace_original: true, text: 'Person forgotten', blocks: [text(said)] });
  });
}
