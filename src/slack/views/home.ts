import type { WebClient } from '@slack/web-api';
import { reportLine } from '../blocks/batches.js';
import { campaignListBlocks, newCampaignButton } from '../blocks/campaigns.js';
import { code, divider, type KnownBlock, text, when } from '../blocks/common.js';
import { keyFiguresBlocks } from '../blocks/report.js';
import { isSequenceView } from '../blocks/steps.js';
import type { SlackDeps } from '../kit/context.js';
import { esc } from '../kit/escape.js';
import { listView } from './batches.js';

/** What a re-published Home shows besides its usual content. */
export type HomeOptions = {
  /** A line at the top (already escaped mrkdwn): what a click did, or why it failed. */
  notice?: string;
  /** Blocks under the notice, e.g. a question with its button. */
  top?: KnownBlock[];
  /** What "Manage Batches" shows instead of the first page of batches (another page, one batch). */
  batches?: KnownBlock[];
};

/** How many older sequences still sending the Send section lists besides the latest five campaigns. */
const maxSequences = 5;

/** The App Home: the seed's three tabs as sections (Upload CSV, Manage Batches, Send). */
export async function homeBlocks(deps: SlackDeps, opts: HomeOptions = {}): Promise<KnownBlock[]> {
  const { notice, top = [] } = opts;
  const recent = (await deps.services.batches.list({ limit: 5 })).batches;
  const active = await deps.services.batches.getActive();
  const latest = (await deps.services.campaigns.list({ limit: 5 })).campaigns;
  const campaigns = await Promise.all(latest.map((c) => deps.services.progress.get(c.id)));
  // Sequences still sending that are not among the latest five: their follow-ups go on for days.
  const sequences = await Promise.all(
    (await deps.services.campaigns.list({ status: 'sending', limit: 50 })).campaigns
      .filter((c) => isSequenceView(c) && !latest.some((l) => l.id === c.id))
      .slice(0, maxSequences)
      .map((c) => deps.services.progress.get(c.id)),
  );
  const imports = recent.map(
    (b) =>
      `• *${esc(b.name)}* ${code(b.id)} ${when(b.createdAt)}\n   ${b.report ? reportLine(b.report) : 'importing…'}`,
  );
  return [
    ...(notice ? [text(notice)] : []),
    ...top,
    ...(notice || top.length > 0 ? [divider] : []),
    { type: 'header', text: { type: 'plain_text', text: ':file_folder: Upload CSV' } },
    text(
      'Drop a CSV file (from Google Contacts, Outlook, LinkedIn, HubSpot, Mailchimp, Apollo or Excel) in a channel ' +
        'the app is in. Each file becomes a new batch and the *active* one; the previous batch stops receiving campaigns. ' +
        'Addresses already known are not imported again, and people who bounced or unsubscribed never come back.',
    ),
    text(imports.length > 0 ? `*Last imports*\n${imports.join('\n')}` : '_No imports yet._'),
    divider,
    { type: 'header', text: { type: 'plain_text', text: ':package: Manage Batches' } },
    ...keyFiguresBlocks(active ? await deps.services.reports.keyFigures(active.id) : null),
    ...(opts.batches ?? (await listView(deps, null, 'home'))),
    divider,
    { type: 'header', text: { type: 'plain_text', text: ':rocket: Send' } },
    text(
      'Campaigns go to the *active batch* only, once per person; bounced and unsubscribed people never get another.',
    ),
    ...campaignListBlocks(campaigns),
    ...(sequences.length > 0
      ? [
          text('*Sequences in progress* (older campaigns still sending follow-ups)'),
          ...campaignListBlocks(sequences),
        ]
      : []),
    newCampaignButton(),
  ];
}

/** Publishes the user's App Home; a notice (a string) or more (HomeOptions) shows what a click did. */
export async function publishHome(
  deps: SlackDeps,
  client: WebClient,
  userId: string,
  opts: HomeOptions | string = {},
): Promise<void> {
  const blocks = await homeBlocks(deps, typeof opts === 'string' ? { notice: opts } : opts);
  await client.views.publish({ user_id: userId, view: { type: 'home', blocks } });
}
