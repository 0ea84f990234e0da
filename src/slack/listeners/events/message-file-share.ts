import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { SlackDeps } from '../../context.js';
import { importSharedFile } from '../../file-import.js';

const fileShare = z
  .object({
    subtype: z.literal('file_share'),
    channel: z.string(),
    user: z.string(),
    ts: z.string(),
    files: z.array(z.object({ id: z.string() }).loose()).min(1),
  })
  .loose();

/** `message` with subtype `file_share`: the same file as `file_shared`; the claim in the database keeps it to one import. */
export function register(app: App, deps: SlackDeps): void {
  app.event('message', async ({ event, client, context }) => {
    const parsed = fileShare.safeParse(event);
    if (!parsed.success) return;
    const e = parsed.data;
    for (const file of e.files) {
      deps.background.run(
        importSharedFile(deps, client, context.botUserId, {
          fileId: file.id,
          channelId: e.channel,
          userId: e.user,
          messageTs: e.ts,
        }).catch((err: unknown) =>
          deps.log.error({ err, fileId: file.id }, 'file import failed before answering'),
        ),
      );
    }
  });
}
