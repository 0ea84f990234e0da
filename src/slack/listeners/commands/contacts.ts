import type { App } from '@slack/bolt';
import { errorBlocks, type KnownBlock, text } from '../../blocks/common.js';
import { contactsHelp, contactsSubcommands } from '../../contacts/index.js';
import { failureText, type SlackDeps } from '../../context.js';
import { respondReliably } from '../../respond.js';

const maxText = 2000;

/** `/contacts <subcommand> …`: acked at once, answered through respond (only the user sees it). */
export function register(app: App, deps: SlackDeps): void {
  app.command('/contacts', async ({ command, ack, client, respond }) => {
    await ack();
    const raw = String(command.text ?? '')
      .slice(0, maxText)
      .trim();
    const [sub = 'help', ...rest] = raw.split(/\s+/);
    const handler = contactsSubcommands[sub.toLowerCase()];
    let blocks: KnownBlock[];
    try {
      blocks = handler
        ? await handler({
            deps,
            client,
            user: command.user_id,
            channel: command.channel_id,
            args: rest.join(' ').trim(),
            respond,
          })
        : [
            text(
              `${sub && sub !== 'help' ? `I don't know \`${sub.slice(0, 30).replace(/[`<>&]/g, '')}\`.\n\n` : ''}` +
                `*/contacts* looks after people across batches:\n${contactsHelp.join('\n')}`,
            ),
          ];
    } catch (e) {
      blocks = errorBlocks(failureText(deps, e, 'running /contacts'));
    }
    await respondReliably(respond)({ response_type: 'ephemeral', text: 'Contacts', blocks });
  });
}
