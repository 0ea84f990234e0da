import { localTime, text } from '../../../blocks/common.js';
import type { Subcommand } from '../../../kit/command.js';
import { assertAdmin } from '../../../kit/context.js';
import { detailsView } from '../../../views/batches.js';
import { requireId } from './batch-id.js';

/** `/batches activate <id> at <time>` (or `in 2h`): the scheduler activates it then. */
const scheduleActivation: Subcommand = async ({ deps, user, words: [id, ...rest] }) => {
  assertAdmin(deps, user, 'schedule activations');
  const when = rest[0]?.toLowerCase() === 'in' ? rest.join(' ') : rest.slice(1).join(' ');
  const s = await deps.services.scheduledActivations.scheduleFromText(requireId(id, 'activate'), when, user);
  return [
    text(
      `:calendar: \`${s.batchId}\` will become the active batch on ${localTime(s.at)}. ` +
        `Cancel with \`/batches cancel-activation ${s.batchId}\`.`,
    ),
    ...(await detailsView(deps, s.batchId)),
  ];
};

/** `/batches activate|deactivate|cancel-activation <id>` (admins, when SLACK_ADMIN_USERS is set). */
export const subcommands: Record<string, Subcommand> = {
  activate: async (ctx) => {
    const [id, how] = ctx.words;
    if (how?.toLowerCase() === 'at' || how?.toLowerCase() === 'in') return scheduleActivation(ctx);
    const { deps, user } = ctx;
    assertAdmin(deps, user, 'activate batches');
    await deps.services.batches.activate(requireId(id, 'activate'), user);
    return [
      text(':white_check_mark: Activated. It is now the only batch that receives campaigns.'),
      ...(await detailsView(deps, id!)),
    ];
  },
  deactivate: async ({ deps, user, words: [id] }) => {
    assertAdmin(deps, user, 'deactivate batches');
    await deps.services.batches.deactivate(requireId(id, 'deactivate'), user);
    return [
      text(':white_circle: Deactivated. No batch receives campaigns until one is activated.'),
      ...(await detailsView(deps, id!)),
    ];
  },
  'cancel-activation': async ({ deps, user, words: [id] }) => {
    assertAdmin(deps, user, 'schedule activations');
    const c = await deps.services.scheduledActivations.cancel(requireId(id, 'cancel-activation'), user);
    return [text(`:x: The activation of \`${c.batchId}\` set for ${localTime(c.at)} is cancelled.`)];
  },
};
