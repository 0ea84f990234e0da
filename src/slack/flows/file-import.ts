import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { tooLarge } from '../../core/imports/limits.js';
import { isDomainError } from '../../errors.js';
import { errorBlocks, type KnownBlock } from '../blocks/common.js';
import { importProgressBlocks, importResultBlocks, queuedBlocks } from '../blocks/imports.js';
import { assertAdmin, failureText, type SlackDeps } from '../kit/context.js';
import { esc } from '../kit/escape.js';
import { downloadSlackFile } from './download.js';

const shareSchema = z.record(z.string(), z.array(z.object({ ts: z.string() }).loose()));
const fileInfoSchema = z.object({
  file: z
    .object({
      id: z.string(),
      name: z.string().default('file.csv'),
      filetype: z.string().default(''),
      mimetype: z.string().default(''),
      size: z.number().default(0),
      user: z.string().optional(),
      url_private_download: z.string().optional(),
      shares: z
        .object({ public: shareSchema.optional(), private: shareSchema.optional() })
        .loose()
        .optional(),
    })
    .loose(),
});

export type SharedFile = {
  fileId: string;
  channelId: string;
  userId: string;
};

const csvTypes = new Set(['csv', 'tsv', 'text']);
const csvNames = /\.(csv|tsv|txt)$/i;

/** Whether a Slack file looks like a contact list we should import. */
export function isTableFile(f: { filetype: string; name: string; mimetype: string }): boolean {
  return (
    csvTypes.has(f.filetype) || csvNames.test(f.name) || /^text\/(csv|tab-separated-values)/.test(f.mimetype)
  );
}

/**
 * A CSV shared in a channel: fetch its metadata, claim it once in the database, download it
 * with the bot token (to Slack only) and import it, answering in the file's thread.
 */
export async function importSharedFile(
  deps: SlackDeps,
  client: WebClient,
  botUserId: string | undefined,
  f: SharedFile,
) {
  const log = deps.log.child({ module: 'slack-import', fileId: f.fileId });
  if (deps.slack.importChannels.length > 0 && !deps.slack.importChannels.includes(f.channelId)) return;
  const info = fileInfoSchema.parse(await client.files.info({ file: f.fileId }));
  const file = info.file;
  if (botUserId && file.user === botUserId) return; // our own exports
  if (!isTableFile(file)) return;
  const threadTs =
    file.shares?.public?.[f.channelId]?.[0]?.ts ?? file.shares?.private?.[f.channelId]?.[0]?.ts;

  try {
    assertAdmin(deps, f.userId, 'import contact lists');
  } catch (e) {
    await client.chat.postEphemeral({
      channel: f.channelId,
      user: f.userId,
      text: failureText(deps, e, 'importing'),
    });
    return;
  }
  const externalId = `slack:${file.id}`;
  if (!(await deps.services.inbox.claimFile(externalId, f.userId, null))) return;

  // Answering is best-effort: the file is claimed, so it is imported even when Slack cannot take
  // the reply now; the result is then posted as a new reply, or logged if Slack still fails.
  const thread = threadTs ? { thread_ts: threadTs } : {};
  const replyTs = await client.chat
    .postMessage({
      channel: f.channelId,
      ...thread,
      text: `Importing ${esc(file.name)}…`,
      blocks: importProgressBlocks(file.name, 0),
    })
    .then((posted) => z.string().parse(posted.ts))
    .catch((err: unknown) => {
      log.warn({ err }, 'could not post the import reply; importing anyway');
      return null;
    });
  if (replyTs)
    await deps.services.inbox.setReplyTo(externalId, JSON.stringify({ channel: f.channelId, ts: replyTs }));
  const update = (text: string, blocks: KnownBlock[]) =>
    replyTs
      ? client.chat.update({ channel: f.channelId, ts: replyTs, text, blocks })
      : client.chat.postMessage({ channel: f.channelId, ...thread, text, blocks });

  // Queue, start and progress notices go out one at a time and in order, before the result, and
  // only by editing the reply (never as new messages).
  let notices: Promise<void> = Promise.resolve();
  let inFlight = 0;
  const notice = (text: string, blocks: KnownBlock[]) => {
    if (!replyTs) return;
    inFlight++;
    notices = notices
      .then(async () => {
        await update(text, blocks);
      })
      .catch((err: unknown) => log.warn({ err }, 'could not update the import reply'))
      .finally(() => {
        inFlight--;
      });
  };

  let answer: { text: string; blocks: KnownBlock[] };
  try {
    if (!file.url_private_download) throw new Error('files.info returned no url_private_download');
    if (file.size > deps.importMaxBytes) throw tooLarge(deps.importMaxBytes);
    const downloadUrl = file.url_private_download;
    let queued = false;
    let lastProgress = Date.now();
    const result = await deps.services.imports.importFile({
      // Downloaded once a slot is free: nothing is held open (or timed) at Slack while it waits.
      source: async () => {
        if (queued) notice(`Importing ${esc(file.name)}…`, importProgressBlocks(file.name, 0));
        return downloadSlackFile(downloadUrl, {
          token: deps.slack.botToken,
          apiUrl: deps.slack.apiUrl,
          maxBytes: deps.importMaxBytes,
        });
      },
      onQueued: (q) => {
        queued = true;
        notice(`Queued: ${esc(file.name)} starts when an import finishes`, queuedBlocks(file.name, q));
      },
      fileName: file.name,
      origin: 'slack',
      actor: f.userId,
      onProgress: (p) => {
        // Skipped while an earlier notice is still on its way (Slack is slow): the next one says more.
        if (inFlight > 0 || Date.now() - lastProgress < deps.progressIntervalMs) return;
        lastProgress = Date.now();
        notice(`Importing ${esc(file.name)}…`, importProgressBlocks(file.name, p.rows));
      },
    });
    await deps.services.inbox.fileImported(externalId, result.batch.id);
    answer = { text: `Imported ${esc(file.name)} as ${result.batch.id}`, blocks: importResultBlocks(result) };
  } catch (e) {
    await deps.services.inbox.fileFailed(externalId, isDomainError(e) ? e.code : 'internal');
    const message = `Could not import ${esc(file.name)}: ${failureText(deps, e, `importing ${file.name}`)}`;
    answer = { text: `Could not import ${esc(file.name)}`, blocks: errorBlocks(message) };
  }
  await notices;
  await update(answer.text, answer.blocks).catch((err: unknown) =>
    log.warn({ err }, 'could not post the import result in Slack'),
  );
}
