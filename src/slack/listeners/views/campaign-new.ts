import type { App } from '@slack/bolt';
import { z } from 'zod';
import { isDomainError } from '../../../errors.js';
import { viewIds } from '../../blocks/action-ids.js';
import { postNewProgress } from '../../flows/campaign-progress.js';
import { assertAdmin, failureText, type SlackDeps } from '../../kit/context.js';
import {
  blockForError,
  type ModalMetadata,
  modalMetadata,
  readCampaignModal,
} from '../../views/campaign-modal.js';
import { stepErrorBlock } from '../../views/campaign-steps.js';

const submission = z
  .object({
    user: z.object({ id: z.string() }),
    view: z
      .object({ private_metadata: z.string().default('{}'), state: z.object({ values: z.unknown() }) })
      .loose(),
  })
  .loose();

/** The "New campaign" modal submitted: validate, save (and schedule), then post its progress message. */
export function register(app: App, deps: SlackDeps): void {
  app.view(viewIds.campaignNew, async ({ ack, body, client }) => {
    const parsed = submission.safeParse(body);
    const meta = parsed.success ? metadataOf(parsed.data.view.private_metadata) : null;
    const form = parsed.success && meta ? readModalSafely(parsed.data.view.state.values, meta) : null;
    if (!parsed.success || !meta || !form) {
      await ack({ response_action: 'errors', errors: { name: unreadable } });
      return;
    }
    const b = parsed.data;
    const userId = b.user.id;
    const { input, draft, problem } = form;
    if (problem) {
      await ack({ response_action: 'errors', errors: { [problem.block]: problem.message } });
      return;
    }
    let id: string;
    try {
      assertAdmin(deps, userId, 'write campaigns');
      const { sendAt: _s, cron: _c, ...draftInput } = input;
      id = (await deps.services.campaigns.create(draft ? draftInput : input, userId)).id;
    } catch (e) {
      const message =
        isDomainError(e) || e instanceof z.ZodError
          ? messageOf(e)
          : failureText(deps, e, 'saving the campaign');
      // A step's or a variant's field, named; nobody to send to belongs to "When": saving it as a
      // draft or for later is still possible.
      const step = stepErrorBlock(e, meta.seq);
      const block = step
        ? step.block
        : isDomainError(e) && e.code === 'empty_audience'
          ? 'when'
          : blockForError(message);
      const text = step?.message ?? message;
      await ack({ response_action: 'errors', errors: { [block]: text.slice(0, 300) } });
      return;
    }
    await ack();
    const { channelId } = meta;
    await postNewProgress(deps, client, id, { channelId, userId }).catch((err: unknown) =>
      deps.log.warn({ err, campaignId: id }, 'could not post the campaign progress message'),
    );
  });
}

const unreadable = 'The form could not be read. Close it and open it again with /campaigns new.';

/** The modal's metadata (where it was opened, its steps), or null when it is not the modal's. */
function metadataOf(raw: string): ModalMetadata | null {
  try {
    return modalMetadata.safeParse(JSON.parse(raw)).data ?? null;
  } catch {
    return null;
  }
}

/** The modal's values, or null when they are not the shape the modal sends. */
function readModalSafely(values: unknown, meta: ModalMetadata): ReturnType<typeof readCampaignModal> | null {
  try {
    return readCampaignModal(values, meta.seq);
  } catch (e) {
    if (e instanceof z.ZodError) return null;
    throw e;
  }
}

function messageOf(e: unknown): string {
  if (e instanceof z.ZodError) {
    const i = e.issues[0];
    return `${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`;
  }
  return e instanceof Error ? e.message : String(e);
}
