import type { App } from '@slack/bolt';
import { DomainError } from '../../../errors.js';
import { errorBlocks, type KnownBlock, text } from '../../blocks/common.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
import { sendExport } from '../../export.js';
import { detailsView, helpBlocks, listView } from '../../views.js';

const maxText = 2000;

function requireId(id: string | undefined, sub: string): string {
  if (!id)
    throw new DomainError(
      'invalid_input',
      `Say which batch: \`/batches ${sub} <batch id>\` (see \`/batches list\`).`,
    );
  return id;
}

/** `/batches list|show|activate|deactivate|export|help`; anything else gets the help. */
export function register(app: App, deps: SlackDeps): void {
  app.command('/batches', async ({ command, ack, client, respond }) => {
    const [sub = 'list', id] = String(command.text ?? '')
      .slice(0, maxText)
      .trim()
      .split(/\s+/);
    const user = command.user_id;
    let blocks: KnownBlock[];
    try {
      switch (sub.toLowerCase()) {
        case '':
        case 'list':
          blocks = listView(deps, null);
          break;
        case 'show':
          blocks = detailsView(deps, requireId(id, 'show'));
          break;
        case 'activate':
          assertAdmin(deps, user, 'activate batches');
          deps.services.batches.activate(requireId(id, 'activate'), user);
          blocks = [
            text(':white_check_mark: Activated. It is now the only batch that receives campaigns.'),
            ...detailsView(deps, id!),
          ];
          break;
        case 'deactivate':
          assertAdmin(deps, user, 'deactivate batches');
          deps.services.batches.deactivate(requireId(id, 'deactivate'), user);
          blocks = [
            text(':white_circle: Deactivated. No batch receives campaigns until one is activated.'),
            ...detailsView(deps, id!),
          ];
          break;
        case 'export': {
          const batchId = requireId(id, 'export');
          assertAdmin(deps, user, 'export contacts');
          deps.services.batches.get(batchId);
          await ack({
            response_type: 'ephemeral',
            text: `Preparing the export of ${batchId}; it will arrive as a direct message.`,
          });
          deps.background.run(
            sendExport(deps, client, user, batchId).catch((e: unknown) =>
              respond({ response_type: 'ephemeral', text: failureText(deps, e, 'exporting') }),
            ),
          );
          return;
        }
        case 'help':
          blocks = helpBlocks();
          break;
        default:
          blocks = helpBlocks(`I don't know \`${sub.slice(0, 30).replace(/[`<>&]/g, '')}\`.`);
      }
    } catch (e) {
      blocks = errorBlocks(failureText(deps, e, 'running /batches'));
    }
    await ack({ response_type: 'ephemeral', text: 'Batches', blocks });
  });
}
