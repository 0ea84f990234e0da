import { helpBlocks } from '../../../blocks/batches.js';
import type { CommandSpec } from '../../../kit/command.js';
import { subcommands as activation } from './activation.js';
import { subcommands as browse } from './browse.js';
import { subcommands as deliveries } from './deliveries.js';
import { subcommands as validation } from './validation.js';

/**
 * `/batches list|show|activate|deactivate|export|report|…|help`; anything else gets the help.
 * Answered in the ack; the slow ones ack at once and answer when done.
 */
export const batches: CommandSpec = {
  command: '/batches',
  title: 'Batches',
  answerIn: 'ack',
  subcommands: { ...browse, ...activation, ...deliveries, ...validation },
  help: helpBlocks,
};
