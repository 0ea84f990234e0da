import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { errorBlocks, type KnownBlock, text } from './blocks/common.js';
import { assertAdmin, failureText, type SlackDeps } from './context.js';
import { publishHome } from './home.js';
import { respondReliably } from './respond.js';
import { type ButtonValue, detailsView, listView, parseButtonValue } from './views.js';

export type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

const actionBody = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string().optional() }).loose()).min(1),
  })
  .loose();

/** What an action handler produces: a notice line and the blocks of the view it re-renders. */
export type ActionOutcome = { notice?: string; blocks: (view: ButtonValue) => KnownBlock[] };

/**
 * Runs a batch button: ack at once, parse the button value, do the work, and answer where the
 * click came from (the message in place, or the App Home); failures always get an answer.
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
    const respond = respondReliably(args.respond);
    let value: ButtonValue | undefined;
    let out: ActionOutcome;
    let blocks: KnownBlock[] = [];
    try {
      value = parseButtonValue(body.actions[0]!.value);
      out = await work(value, userId, args);
      if (value.view !== 'home') blocks = [...(out.notice ? [text(out.notice)] : []), ...out.blocks(value)];
    } catch (e) {
      const message = failureText(deps, e, doing);
      if (value?.view === 'home') {
        await publishHome(deps, args.client, userId, `:warning: ${message}`);
      } else {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          blocks: errorBlocks(message),
        });
      }
      return;
    }
    // The change is made: failing to say so (Slack down past the retries) is logged by Bolt, never
    // answered as if the change had failed.
    if (value.view === 'home') await publishHome(deps, args.client, userId, out.notice);
    else if (value.view === 'import')
      await respond({ response_type: 'ephemeral', replace_original: false, blocks });
    else await respond({ replace_original: true, blocks });
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
          v.view === 'details' ? detailsView(deps, batch.id, v.page ?? null) : listView(deps, v.page ?? null),
      };
    },
  );
}
