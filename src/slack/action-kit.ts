import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { errorBlocks, type KnownBlock, text } from './blocks/common.js';
import { assertAdmin, failureText, type SlackDeps } from './context.js';
import { publishHome } from './home.js';
import { respondReliably } from './respond.js';
import { type ButtonValue, detailsFor, listFor, onHome, parseButtonValue } from './views.js';

export type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

const actionBody = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string().optional() }).loose()).min(1),
  })
  .loose();

const clickBody = z
  .object({
    user: z.object({ id: z.string() }),
    view: z.object({ type: z.string() }).loose().optional(),
  })
  .loose();

/** The click came from the App Home: there is no response_url, the answer is a re-published Home. */
export const clickedOnHome = (body: unknown): boolean =>
  clickBody.safeParse(body).data?.view?.type === 'home';

/**
 * Tells the person who clicked a refusal or a failure (escaped mrkdwn) where they clicked: the App
 * Home's notice when the click came from Home, else privately under the message, which stays as it was.
 */
export async function tellClicker(
  deps: SlackDeps,
  args: { body: unknown; client: WebClient; respond?: ActionArgs['respond'] },
  message: string,
): Promise<void> {
  const { user } = clickBody.parse(args.body);
  if (clickedOnHome(args.body) || !args.respond) {
    await publishHome(deps, args.client, user.id, `:warning: ${message}`);
    return;
  }
  await respondReliably(args.respond)({
    response_type: 'ephemeral',
    replace_original: false,
    text: `:warning: ${message}`,
    blocks: errorBlocks(message),
  });
}

/** What an action handler produces: a notice line and the blocks of the view it re-renders. */
export type ActionOutcome = { notice?: string; blocks: (view: ButtonValue) => KnownBlock[] };

/** The fallback text of an answer: the notice, else what the view shows. */
const fallbackText = (notice: string | undefined, v: ButtonValue) =>
  notice ?? (v.view === 'list' ? 'Batches' : 'Batch details');

/**
 * Runs a batch button: ack at once, parse the button value, do the work, and answer where the
 * click came from (the message in place, or the App Home showing the view the click asked for);
 * failures always get an answer.
 */
export function batchAction(
  deps: SlackDeps,
  doing: string,
  work: (value: ButtonValue, userId: string, args: ActionArgs) => ActionOutcome | Promise<ActionOutcome>,
) {
  return async (args: ActionArgs): Promise<void> => {
    await args.ack();
    const body = actionBody.parse(args.body);
    const userId = body.user.id;
    let value: ButtonValue;
    let out: ActionOutcome;
    let blocks: KnownBlock[];
    try {
      value = parseButtonValue(body.actions[0]!.value);
      out = await work(value, userId, args);
      blocks = out.blocks(value);
    } catch (e) {
      await tellClicker(deps, args, failureText(deps, e, doing));
      return;
    }
    // The change is made: failing to say so (Slack down past the retries) is logged by Bolt, never
    // answered as if the change had failed.
    if (onHome(value)) {
      await publishHome(deps, args.client, userId, {
        ...(out.notice ? { notice: out.notice } : {}),
        batches: blocks,
      });
      return;
    }
    const respond = respondReliably(args.respond);
    const answer = {
      text: fallbackText(out.notice, value),
      blocks: [...(out.notice ? [text(out.notice)] : []), ...blocks],
    };
    if (value.view === 'import')
      await respond({ response_type: 'ephemeral', replace_original: false, ...answer });
    else await respond({ replace_original: true, ...answer });
  };
}

/** Activate / Deactivate buttons: the same flow, one verb apart; the view re-renders in place. */
export function batchToggle(
  deps: SlackDeps,
  verb: 'activate' | 'deactivate',
  notice: (id: string) => string,
) {
  return batchAction(
    deps,
    `${verb === 'activate' ? 'activating' : 'deactivating'} the batch`,
    (value, userId) => {
      assertAdmin(deps, userId, `${verb} batches`);
      const batch = deps.services.batches[verb](value.id ?? '', userId);
      return {
        notice: notice(batch.id),
        blocks: (v) =>
          v.view === 'list' || v.view === 'home' ? listFor(deps, v) : detailsFor(deps, v, batch.id),
      };
    },
  );
}
