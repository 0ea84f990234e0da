import { DomainError } from '../../../../errors.js';
import { historyBlocks } from '../../../blocks/campaign-held.js';
import {
  campaignHelpBlocks,
  campaignListBlocks,
  newCampaignButton,
  progressBlocks,
} from '../../../blocks/campaigns.js';
import { text } from '../../../blocks/common.js';
import { openCampaignModal } from '../../../flows/campaign-open.js';
import { refreshProgress } from '../../../flows/campaign-progress.js';
import { sendCampaignResults } from '../../../flows/exports.js';
import type { CommandSpec, Subcommand } from '../../../kit/command.js';
import { assertAdmin } from '../../../kit/context.js';
import { doctor } from './doctor.js';

function requireId(id: string | undefined, sub: string): string {
  if (!id)
    throw new DomainError(
      'invalid_input',
      `Say which campaign: \`/campaigns ${sub} <id>\` (see \`/campaigns list\`).`,
    );
  return id;
}

const list: Subcommand = async ({ deps }) => {
  const items = await Promise.all(
    (await deps.services.campaigns.list({ limit: 15 })).campaigns.map((c) =>
      deps.services.progress.get(c.id),
    ),
  );
  return [...campaignListBlocks(items), newCampaignButton()];
};

/** Pause, resume or cancel, then the progress (its message too). */
const control =
  (verb: 'pause' | 'resume' | 'cancel'): Subcommand =>
  async ({ deps, client, user, words: [id] }) => {
    assertAdmin(deps, user, `${verb} campaigns`);
    const cid = requireId(id, verb);
    await deps.services.campaigns[verb](cid, user);
    deps.background.run(refreshProgress(deps, client, cid).catch(() => {}));
    return [text(`Done: ${verb}.`), ...progressBlocks(await deps.services.progress.get(cid))];
  };

/**
 * `/campaigns list|new|show|pause|resume|cancel|export|doctor|help`. Acked at once: the figures of open
 * campaigns count their remaining audience, which takes time with a million contacts; the answer
 * follows through respond (still only the user sees it).
 */
export const campaigns: CommandSpec = {
  command: '/campaigns',
  title: 'Campaigns',
  answerIn: 'respond',
  subcommands: {
    '': list,
    list,
    new: async ({ deps, client, user, triggerId, channel }) => {
      assertAdmin(deps, user, 'write campaigns');
      await openCampaignModal(deps, client, triggerId, channel);
      return null;
    },
    show: async ({ deps, words: [id] }) => {
      const cid = requireId(id, 'show');
      const { history, omitted } = await deps.services.campaigns.history(cid, 5);
      return [...progressBlocks(await deps.services.progress.get(cid)), ...historyBlocks(history, omitted)];
    },
    pause: control('pause'),
    resume: control('resume'),
    cancel: control('cancel'),
    export: async ({ deps, client, user, words: [id] }) => {
      const cid = requireId(id, 'export');
      await sendCampaignResults(deps, client, user, cid);
      return [text(`:inbox_tray: The results of \`${cid}\` were sent to you as a direct message.`)];
    },
    doctor,
    help: async () => campaignHelpBlocks(),
  },
  help: campaignHelpBlocks,
};
