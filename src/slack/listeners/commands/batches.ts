import { basename } from 'node:path';
import type { App } from '@slack/bolt';
import { parseFilterText } from '../../../core/batches/contact-filter.js';
import { DomainError } from '../../../errors.js';
import { channelProblem, postBatchReport } from '../../batch-report.js';
import { errorBlocks, type KnownBlock, localTime, text } from '../../blocks/common.js';
import { assertAdmin, failureText, type SlackDeps } from '../../context.js';
import { esc } from '../../escape.js';
import { sendExport, sendSuppressionsExport } from '../../export.js';
import { answerValidationCommand } from '../../validation.js';
import { detailsView, helpBlocks, listView, scheduledView } from '../../views.js';

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
    const [sub = 'list', id, ...rest] = String(command.text ?? '')
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
          blocks = detailsView(deps, requireId(id, 'show'), null, parseFilterText(rest.join(' ')));
          break;
        case 'activate':
          if (rest[0]?.toLowerCase() === 'at' || rest[0]?.toLowerCase() === 'in') {
            assertAdmin(deps, user, 'schedule activations');
            const when = rest[0].toLowerCase() === 'in' ? rest.join(' ') : rest.slice(1).join(' ');
            const s = deps.services.scheduledActivations.scheduleFromText(
              requireId(id, 'activate'),
              when,
              user,
            );
            blocks = [
              text(
                `:calendar: \`${s.batchId}\` will become the active batch on ${localTime(s.at)}. ` +
                  `Cancel with \`/batches cancel-activation ${s.batchId}\`.`,
              ),
              ...detailsView(deps, s.batchId),
            ];
            break;
          }
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
          const filter = parseFilterText(rest.join(' '));
          await ack({
            response_type: 'ephemeral',
            text: `Preparing the export of ${batchId}; it will arrive as a direct message.`,
          });
          deps.background.run(
            sendExport(deps, client, user, batchId, filter).catch((e: unknown) =>
              respond({ response_type: 'ephemeral', text: failureText(deps, e, 'exporting') }),
            ),
          );
          return;
        }
        case 'export-suppressions': {
          assertAdmin(deps, user, 'export the suppression list');
          await ack({
            response_type: 'ephemeral',
            text: 'Preparing the suppression list; it will arrive as a direct message.',
          });
          deps.background.run(
            sendSuppressionsExport(deps, client, user).catch((e: unknown) =>
              respond({ response_type: 'ephemeral', text: failureText(deps, e, 'exporting') }),
            ),
          );
          return;
        }
        case 'report': {
          const batchId = requireId(id, 'report');
          deps.services.batches.get(batchId);
          await ack({ response_type: 'ephemeral', text: `Building the report of ${batchId}…` });
          deps.background.run(
            postBatchReport(deps, client, { channel: command.channel_id, batchId, userId: user }).catch(
              (e: unknown) =>
                respond({
                  response_type: 'ephemeral',
                  text: channelProblem(e) ?? failureText(deps, e, 'building the report'),
                }),
            ),
          );
          return;
        }
        case 'scheduled':
          blocks = scheduledView(deps);
          break;
        case 'cancel-activation': {
          assertAdmin(deps, user, 'schedule activations');
          const c = deps.services.scheduledActivations.cancel(requireId(id, 'cancel-activation'), user);
          blocks = [text(`:x: The activation of \`${c.batchId}\` set for ${localTime(c.at)} is cancelled.`)];
          break;
        }
        case 'backup': {
          assertAdmin(deps, user, 'run backups');
          await ack({ response_type: 'ephemeral', text: 'Backing up the database… I will answer here.' });
          deps.background.run(
            deps.services.backup.run(`slack:${user}`).then(
              (b) =>
                respond({
                  response_type: 'ephemeral',
                  text:
                    `:floppy_disk: Backup written: \`${basename(b.file)}\` (${(b.bytes / 2 ** 20).toFixed(1)} MB, ` +
                    `${b.batches} batches, ${b.contacts} contacts, integrity_check ok).`,
                }),
              (e: unknown) =>
                respond({
                  response_type: 'ephemeral',
                  text: `:rotating_light: The backup failed: ${esc(e instanceof Error ? e.message : String(e))}`,
                }),
            ),
          );
          return;
        }
        case 'validate':
        case 'include-invalid':
          // Checks DNS first: answers in the ack, or later through respond() when DNS is slow.
          await answerValidationCommand(
            deps,
            user,
            String(command.text ?? '').slice(0, maxText),
            ack,
            respond,
          );
          return;
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
