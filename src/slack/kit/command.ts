import type {
  AckFn,
  AllMiddlewareArgs,
  RespondArguments,
  RespondFn,
  SlackCommandMiddlewareArgs,
} from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { errorBlocks, type KnownBlock } from '../blocks/common.js';
import { failureText, type SlackDeps } from './context.js';
import { respondReliably } from './respond.js';

/** The most of a command's text read: Slack allows far less in practice. */
const maxText = 2000;

/** What a subcommand gets: who asked where, the text after the subcommand, and how to answer. */
export type CommandContext = {
  deps: SlackDeps;
  client: WebClient;
  user: string;
  channel: string;
  triggerId: string;
  /** The words after the subcommand. */
  words: string[];
  /** The text after the subcommand, its words joined by single spaces (e.g. the address). */
  args: string;
  /** The whole text of the command (clipped). */
  text: string;
  /** Only for commands answered in the ack, by a subcommand that acks with its own text. */
  ack: AckFn<string | RespondArguments>;
  respond: RespondFn;
};

/**
 * One subcommand: parse its words, make one core call, render. Returns the blocks of the
 * ephemeral answer, or null when it answered itself (acked with its own text, opened a modal).
 */
export type Subcommand = (ctx: CommandContext) => Promise<KnownBlock[] | null>;

export type CommandSpec = {
  /** The slash command, e.g. `/batches`. */
  command: string;
  /** The answer's fallback text. */
  title: string;
  /**
   * `ack`: answered in the ack (quick commands); `respond`: acked at once and answered through the
   * response_url (commands whose answers take time to build).
   */
  answerIn: 'ack' | 'respond';
  /** By lowercased name; `''` is the command without text. */
  subcommands: Record<string, Subcommand>;
  /** The help, with a line first (an unknown subcommand) when given. */
  help: (prefix?: string) => KnownBlock[];
};

/** The listener of a slash command that dispatches to its table of subcommands. */
export function commandListener(deps: SlackDeps, spec: CommandSpec) {
  return async ({
    command,
    ack,
    client,
    respond,
  }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    if (spec.answerIn === 'respond') await ack();
    const text = String(command.text ?? '').slice(0, maxText);
    const [sub = '', ...words] = text.trim().split(/\s+/);
    const name = sub.toLowerCase();
    // Own entries only: `toString` or `constructor` are not subcommands.
    const run = Object.hasOwn(spec.subcommands, name) ? spec.subcommands[name] : undefined;
    let blocks: KnownBlock[] | null;
    try {
      blocks = run
        ? await run({
            deps,
            client,
            user: command.user_id,
            channel: command.channel_id,
            triggerId: command.trigger_id,
            words,
            args: words.join(' ').trim(),
            text,
            ack,
            respond,
          })
        : spec.help(
            sub && sub !== 'help'
              ? `I don't know \`${sub.slice(0, 30).replace(/[`<>&]/g, '')}\`.`
              : undefined,
          );
    } catch (e) {
      blocks = errorBlocks(failureText(deps, e, `running ${spec.command}`));
    }
    if (blocks === null) return;
    const answer = { response_type: 'ephemeral' as const, text: spec.title, blocks };
    if (spec.answerIn === 'ack') await ack(answer);
    else await respondReliably(respond)(answer);
  };
}
