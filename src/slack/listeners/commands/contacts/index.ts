import { text } from '../../../blocks/common.js';
import type { CommandSpec } from '../../../kit/command.js';
import { subcommands as rights, help as rightsHelp } from './rights.js';
import { subcommands as status, help as statusHelp } from './status.js';
import { subcommands as suppress, help as suppressHelp } from './suppress.js';
import { subcommands as why, help as whyHelp } from './why.js';

/** One line per subcommand for `/contacts help`. */
const helpLines: string[] = [...whyHelp, ...statusHelp, ...rightsHelp, ...suppressHelp];

/** `/contacts <subcommand> …`: acked at once, answered through respond (only the user sees it). */
export const contacts: CommandSpec = {
  command: '/contacts',
  title: 'Contacts',
  answerIn: 'respond',
  subcommands: { ...why, ...status, ...rights, ...suppress },
  help: (prefix) => [
    text(
      `${prefix ? `${prefix}\n\n` : ''}*/contacts* looks after people across batches:\n${helpLines.join('\n')}`,
    ),
  ],
};
