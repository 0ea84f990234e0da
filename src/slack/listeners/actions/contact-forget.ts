import type { App } from '@slack/bolt';
import { z } from 'zod';
import { actionIds } from '../../blocks/action-ids.js';
import { text } from '../../blocks/common.js';
import { forgottenText } from '../../blocks/people.js';
import { actionListener } from '../../kit/action.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';

const address = z.string().max(320);

/** The Forget button of `/contacts forget`: erases the person, then replaces the question with what was erased. */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.contactForget,
    actionListener(deps, 'erasing the person', async (click) => {
      const email = address.parse(click.value);
      assertAdmin(deps, click.userId, 'erase people');
      const counts = await deps.services.people.forgetPerson(email, click.userId);
      const hash = deps.services.people.hashPrefix(email);
      deps.log.info({ module: 'slack', userId: click.userId, hash }, 'person forgotten from Slack');
      const said = forgottenText(hash, counts);
      return () => click.answer({ replace_original: true, text: 'Person forgotten', blocks: [text(said)] });
    }),
  );
}
