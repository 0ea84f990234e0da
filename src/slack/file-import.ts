import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { tooLarge } from '../core/imports/limits.js';
import { isDomainError } from '../errors.js';
import { errorBlocks } from './blocks/common.js';
import { importProgressBlocks, importResultBlocks } from './blocks/imports.js';
import { assertAdmin, failureText, type SlackDeps } from './context.js';
import { downloadSlackFile } from './download.js';
import { esc } from './escape.js';

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
  /** The message that shared the file, when the event says (message/file_share). */
  messageTs?: string;
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
    f.messageTs ??
    file.shares?.public?.[f.channelId]?.[0]?.ts ??
    file.shares?.private?.[f.channelId]?.[0]?.ts;

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
  if (!deps.services.inbox.claimFile(externalId, f.userId, null)) return;

  const posted = await client.chat.postMessage({
    channel: f.channelId,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    text: `Importing ${file.name}…`,
    blocks: importProgressBlocks(file.name, 0),
  });
  const replyTs = z.string().parse(posted.ts);
  deps.services.inbox.setReplyTo(externalId, JSON.stringify({ channel: f.channelId, ts: replyTs }));
  const update = (text: string, blocks: ReturnType<typeof errorBlocks>) =>
    client.chat.update({ channel: f.channelId, ts: replyTs, text, blocks });

  try {
    if (!file.url_private_download) throw new Error('files.info returned no url_private_download');
    if (file.size > deps.importMaxBytes) throw tooLarge(deps.importMaxBytes);
    const source = await downloadSlackFile(file.url_private_download, {
      token: deps.slack.botToken,
      apiUrl: deps.slack.apiUrl,
      maxBytes: deps.importMaxBytes,
    });
    let lastProgress = Date.now();
    const result = await deps.services.imports.importFile({
      source,
      fileName: file.name,
      origin: 'slack',
      actor: f.userId,
      onProgress: (p) => {
        if (Date.now() - lastProgress < deps.progressIntervalMs) return;
        lastProgress = Date.now();
        update(`Importing ${file.name}…`, importProgressBlocks(file.name, p.rows)).catch((e: unknown) =>
          log.warn({ err: e }, 'progress update failed'),
        );
      },
    });
    deps.services.inbox.fileImported(externalId, result.batch.id);
    await update(`Imported ${file.name} as ${result.batch.id}`, importResultBlocks(result));
  } catch (e) {
    deps.services.inbox.fileFailed(externalId, isDomainError(e) ? e.code : 'internal');
    const message = `Could not import ${esc(file.name)}: ${failureText(deps, e, `importing ${file.name}`)}`;
    await update(`Could not import ${file.name}`, errorBlocks(message));
  }
}
