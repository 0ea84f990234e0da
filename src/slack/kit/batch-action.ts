import { type KnownBlock, text } from '../blocks/common.js';
import { publishHome } from '../views/home.js';
import { actionListener, type Click } from './action.js';
import { type ButtonValue, onHome, parseButtonValue } from './button-value.js';
import type { SlackDeps } from './context.js';

/** What a batch button's handler produces: a notice line and the blocks of the view it re-renders. */
export type ActionOutcome = {
  notice?: string;
  blocks: (view: ButtonValue) => KnownBlock[] | Promise<KnownBlock[]>;
};

/** The fallback text of an answer: the notice, else what the view shows. */
const fallbackText = (notice: string | undefined, v: ButtonValue) =>
  notice ?? (v.view === 'list' ? 'Batches' : 'Batch details');

/**
 * Runs a batch button: parse the button value, do the work, and answer where the click came from
 * (the message in place, privately under an import reply, or the App Home showing the view the
 * click asked for).
 */
export function batchAction(
  deps: SlackDeps,
  doing: string,
  work: (value: ButtonValue, userId: string, click: Click) => ActionOutcome | Promise<ActionOutcome>,
) {
  return actionListener(deps, doing, async (click) => {
    const value = parseButtonValue(click.value);
    const out = await work(value, click.userId, click);
    const blocks = await out.blocks(value);
    return async () => {
      if (onHome(value)) {
        await publishHome(deps, click.client, click.userId, {
          ...(out.notice ? { notice: out.notice } : {}),
          batches: blocks,
        });
        return;
      }
      const answer = {
        text: fallbackText(out.notice, value),
        blocks: [...(out.notice ? [text(out.notice)] : []), ...blocks],
      };
      if (value.view === 'import')
        await click.answer({ response_type: 'ephemeral', replace_original: false, ...answer });
      else await click.answer({ replace_original: true, ...answer });
    };
  });
}
