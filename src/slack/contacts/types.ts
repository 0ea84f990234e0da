import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { KnownBlock } from '../blocks/common.js';
import type { SlackDeps } from '../context.js';

/** What a `/contacts` subcommand gets: who asked, the text after the subcommand, and how to answer. */
export type ContactsContext = {
  deps: SlackDeps;
  client: WebClient;
  user: string;
  channel: string;
  /** The text after the subcommand, trimmed (e.g. the address). */
  args: string;
  respond: RespondFn;
};

/** Returns the blocks of the ephemeral answer (the command is already acknowledged). */
export type ContactsSubcommand = (ctx: ContactsContext) => Promise<KnownBlock[]>;
