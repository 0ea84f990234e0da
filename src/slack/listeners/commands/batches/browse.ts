import { parseFilterText } from '../../../../core/batches/contact-filter.js';
import { helpBlocks } from '../../../blocks/batches.js';
import type { Subcommand } from '../../../kit/command.js';
import { detailsView, listView, scheduledView } from '../../../views/batches.js';
import { requireId } from './batch-id.js';

const list: Subcommand = async ({ deps }) => listView(deps, null);

/** `/batches list|show|scheduled|help`: what there is, nothing changed. */
export const subcommands: Record<string, Subcommand> = {
  '': list,
  list,
  show: async ({ deps, words: [id, ...filters] }) =>
    detailsView(deps, requireId(id, 'show'), null, parseFilterText(filters.join(' '))),
  scheduled: async ({ deps }) => scheduledView(deps),
  help: async () => helpBlocks(),
};
