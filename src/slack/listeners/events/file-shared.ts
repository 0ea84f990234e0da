import type { App } from '@slack/bolt';
import { z } from 'zod';
import { importSharedFile } from '../../flows/file-import.js';
import type { SlackDeps } from '../../kit/context.js';

const fileShared = z.object({ file_id: z.string(), channel_id: z.string(), user_id: z.string() }).loose();

/** `file_shared`: a file appeared in a channel the app is in; CSVs are imported after the ack. */
export function register(app: App, deps: SlackDeps): void {
  app.event('file_shared', async ({ event, client, context }) => {
    const e = fileShared.parse(event);
    deps.background.run(
      (async () => {
        // The bot's own uploads (exports) are never imported: that takes knowing who the bot is.
        const botUserId = context.botUserId ?? (await deps.botUserId().catch(() => undefined));
        if (!botUserId) {
          deps.log.warn(
            { fileId: e.file_id },
            'file not imported: Slack did not say who the bot is (auth.test failed); share it again',
          );
          return;
        }
        await importSharedFile(deps, client, botUserId, {
          fileId: e.file_id,
          channelId: e.channel_id,
          userId: e.user_id,
        });
      })().catch((err: unknown) =>
        deps.log.error({ err, fileId: e.file_id }, 'file import failed before answering'),
      ),
    );
  });
}
