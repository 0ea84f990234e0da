import type { App } from '@slack/bolt';
import { z } from 'zod';
import { actionIds } from '../../blocks/action-ids.js';
import { text } from '../../blocks/common.js';
import { batchDeletedText } from '../../blocks/retention.js';
import { actionListener } from '../../kit/action.js';
import { assertAdmin, type SlackDeps } from '../../kit/context.js';

const batchId = z.string().max(100);

/** "Delete batch" under a retention proposal: deletes the inactive batch and its contacts (admins). */
export function register(app: App, deps: SlackDeps): void {
  app.action(
    actionIds.retentionDelete,
    actionListener(deps, 'deleting the batch', async (click) => {
      const id = batchId.parse(click.value);
      assertAdmin(deps, click.userId, 'delete batches');
      const done = await deps.services.retention.deleteBatch(id, click.userId);
      const said = batchDeletedText(click.userId, done);
      return () => click.answer({ replace_original: true, text: 'Batch deleted', blocks: [text(said)] });
    }),
  );
}
