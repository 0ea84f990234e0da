import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { errorBlocks } from '../blocks/common.js';
import { publishHome } from '../views/home.js';
import { failureText, type SlackDeps } from './context.js';
import { type AnswerFn, respondReliably } from './respond.js';

export type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

const actionBody = z
  .object({
    user: z.object({ id: z.string() }),
    actions: z.array(z.object({ value: z.string().optional() }).loose()).min(1),
    trigger_id: z.string().optional(),
    channel: z.object({ id: z.string() }).loose().optional(),
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

/** A button click, read: who clicked what, where, and how to answer. */
export type Click = {
  userId: string;
  /** The button's value, as posted (each listener parses its own shape). */
  value: string | undefined;
  /** Clicked in the App Home (answered by re-publishing it) rather than in a message. */
  fromHome: boolean;
  triggerId: string | undefined;
  /** The channel of the message clicked, when Slack says. */
  channelId: string | undefined;
  client: WebClient;
  /** Answers through the click's response_url, trying again while Slack fails. */
  answer: AnswerFn;
};

/** How to say that the click's change is made, or null when the handler has answered already. */
export type Reply = (() => Promise<unknown>) | null;

/**
 * The one way a button is answered: ack at once, run the handler, and tell the clicker where they
 * clicked when it refuses or fails (`doing` names the work in the generic failure text). The
 * handler's Reply runs after that: the change is made, so a Slack failure to say so is logged by
 * Bolt, never answered as if the change had failed.
 */
export function actionListener(
  deps: SlackDeps,
  doing: string,
  handle: (click: Click) => Reply | Promise<Reply>,
) {
  return async (args: ActionArgs): Promise<void> => {
    await args.ack();
    const body = actionBody.parse(args.body);
    const click: Click = {
      userId: body.user.id,
      value: body.actions[0]!.value,
      fromHome: clickedOnHome(args.body),
      triggerId: body.trigger_id,
      channelId: body.channel?.id,
      client: args.client,
      answer: respondReliably(args.respond),
    };
    let reply: Reply;
    try {
      reply = await handle(click);
    } catch (e) {
      await tellClicker(deps, args, failureText(deps, e, doing));
      return;
    }
    if (reply) await reply();
  };
}
