import { basename } from 'node:path';
import { parseFilterText } from '../../../../core/batches/contact-filter.js';
import { postBatchReport } from '../../../flows/batch-report.js';
import { sendExport, sendSuppressionsExport } from '../../../flows/exports.js';
import type { CommandContext, Subcommand } from '../../../kit/command.js';
import { assertAdmin, failureText } from '../../../kit/context.js';
import { esc } from '../../../kit/escape.js';
import { channelProblem } from '../../../kit/slack-errors.js';
import { requireId } from './batch-id.js';

/** Acks with `said` now and runs `work` after the ack; its failure is answered through respond. */
async function later(
  ctx: CommandContext,
  said: string,
  work: () => Promise<unknown>,
  failed: (e: unknown) => string,
): Promise<null> {
  await ctx.ack({ response_type: 'ephemeral', text: said });
  ctx.deps.background.run(
    work().catch((e: unknown) => ctx.respond({ response_type: 'ephemeral', text: failed(e) })),
  );
  return null;
}

/**
 * `/batches export|export-suppressions|report|backup`: checked now, acked at once, and done after
 * the ack (a file by DM, a report in the channel, a backup), each answering when it is done.
 */
export const subcommands: Record<string, Subcommand> = {
  export: async (ctx) => {
    const { deps, user, words } = ctx;
    const [id, ...filters] = words;
    const batchId = requireId(id, 'export');
    assertAdmin(deps, user, 'export contacts');
    await deps.services.batches.get(batchId);
    const filter = parseFilterText(filters.join(' '));
    return later(
      ctx,
      `Preparing the export of ${batchId}; it will arrive as a direct message.`,
      () => sendExport(deps, ctx.client, user, batchId, filter),
      (e) => failureText(deps, e, 'exporting'),
    );
  },
  'export-suppressions': async (ctx) => {
    const { deps, user } = ctx;
    assertAdmin(deps, user, 'export the suppression list');
    return later(
      ctx,
      'Preparing the suppression list; it will arrive as a direct message.',
      () => sendSuppressionsExport(deps, ctx.client, user),
      (e) => failureText(deps, e, 'exporting'),
    );
  },
  report: async (ctx) => {
    const { deps, user } = ctx;
    const batchId = requireId(ctx.words[0], 'report');
    await deps.services.batches.get(batchId);
    return later(
      ctx,
      `Building the report of ${batchId}…`,
      () => postBatchReport(deps, ctx.client, { channel: ctx.channel, batchId, userId: user }),
      (e) => channelProblem(e) ?? failureText(deps, e, 'building the report'),
    );
  },
  backup: async (ctx) => {
    const { deps, user } = ctx;
    assertAdmin(deps, user, 'run backups');
    await ctx.ack({ response_type: 'ephemeral', text: 'Backing up the database… I will answer here.' });
    deps.background.run(
      deps.services.backup.run(`slack:${user}`).then(
        (b) =>
          ctx.respond({
            response_type: 'ephemeral',
            text:
              `:floppy_disk: Backup written: \`${basename(b.file)}\` (${(b.bytes / 2 ** 20).toFixed(1)} MB, ` +
              `${b.batches} batches, ${b.contacts} contacts, integrity_check ok).`,
          }),
        (e: unknown) =>
          ctx.respond({
            response_type: 'ephemeral',
            text: `:rotating_light: The backup failed: ${esc(e instanceof Error ? e.message : String(e))}`,
          }),
      ),
    );
    return null;
  },
};
