import type { App } from '@slack/bolt';
import { commandListener } from '../../kit/command.js';
import type { SlackDeps } from '../../kit/context.js';
import { batches } from './batches/index.js';
import { campaigns } from './campaigns/index.js';
import { contacts } from './contacts/index.js';

/** The slash commands (manifest.yml declares the same), each a table of subcommands. */
export function register(app: App, deps: SlackDeps): void {
  for (const spec of [batches, campaigns, contacts]) app.command(spec.command, commandListener(deps, spec));
}
