import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { isCampaignEvent } from '../../core/events.js';
import { progressBlocks } from '../blocks/campaigns.js';
import type { SlackDeps } from '../kit/context.js';
import { esc } from '../kit/escape.js';
import { notInChannel } from '../kit/slack-errors.js';

const progressRef = z.object({ channel: z.string(), ts: z.string() });

const posted = z.object({ ts: z.string(), channel: z.string().optional() });

/** Posts the campaign's one progress message and remembers where it is. */
export async function postProgress(
  deps: SlackDeps,
  client: WebClient,
  id: string,
  channel: string,
): Promise<void> {
  const p = await deps.services.progress.get(id);
  const r = posted.parse(
    await client.chat.postMessage({
      channel,
      text: `Campaign ${esc(p.campaign.name)}`,
      blocks: progressBlocks(p),
    }),
  );
  // Posted to a user id, the message is in the app's DM with them: chat.update needs that DM's id.
  await deps.services.campaigns.setProgressRef(
    id,
    JSON.stringify({ channel: r.channel ?? channel, ts: r.ts }),
  );
}

/**
 * Posts a new campaign's progress message where it was asked for: the channel `/campaigns new` (or
 * New campaign) was used in, else the person's DM. Where the app is not a member of that channel,
 * the message goes to the person's DM instead, with a line saying why and how to have it there.
 */
export async function postNewProgress(
  deps: SlackDeps,
  client: WebClient,
  id: string,
  to: { channelId: string | null; userId: string },
): Promise<void> {
  try {
    await postProgress(deps, client, id, to.channelId ?? to.userId);
    return;
  } catch (e) {
    if (!to.channelId || !notInChannel(e)) throw e;
  }
  const campaign = await deps.services.campaigns.get(id);
  await client.chat.postMessage({
    channel: to.userId,
    text:
      `:information_source: I am not in <#${to.channelId}>, so the progress message of *${esc(campaign.name)}* ` +
      `\`${campaign.id}\` is here instead. To have campaign messages in that channel, \`/invite @coldbatch\` there.`,
  });
  await postProgress(deps, client, id, to.userId);
  deps.log.info(
    { campaignId: id, channel: to.channelId },
    'campaign progress posted by DM: not in the channel',
  );
}

/** Updates the progress message in place, if the campaign has one. */
export async function refreshProgress(deps: SlackDeps, client: WebClient, id: string): Promise<void> {
  const raw = await deps.services.campaigns.progressRef(id);
  if (!raw) return;
  const ref = progressRef.parse(JSON.parse(raw));
  const p = await deps.services.progress.get(id);
  await client.chat.update({
    channel: ref.channel,
    ts: ref.ts,
    text: `Campaign ${esc(p.campaign.name)}`,
    blocks: progressBlocks(p),
  });
}

/**
 * Keeps progress messages current as the send engine reports: at most one update per campaign
 * per interval, always one after the last event (so the final figures show). A campaign's
 * updates run one after another: two at once could land in the other order, leaving the message
 * on the older state (a "sending" read before the last message was settled, after "completed").
 * An update due while one is under way waits for it, and any more due meanwhile fold into that
 * one (it reads the latest state when it runs): a Slack that answers slowly gets one update
 * behind at most, never a queue that outlasts the campaign.
 */
export function followCampaigns(deps: SlackDeps, client: WebClient, intervalMs: number): () => void {
  const timers = new Map<string, NodeJS.Timeout>();
  const last = new Map<string, number>();
  const running = new Map<string, { again: boolean }>();
  const flush = (id: string) => {
    timers.delete(id);
    last.set(id, Date.now());
    const under = running.get(id);
    if (under) {
      under.again = true;
      return;
    }
    const state = { again: false };
    running.set(id, state);
    const work = (async () => {
      do {
        state.again = false;
        await refreshProgress(deps, client, id).catch((err: unknown) =>
          deps.log.warn({ err, campaignId: id }, 'progress update failed'),
        );
      } while (state.again);
      running.delete(id);
    })();
    deps.background.run(work);
  };
  const off = deps.services.events.on((e) => {
    if (!isCampaignEvent(e) || timers.has(e.campaignId)) return;
    const wait = Math.max(0, (last.get(e.campaignId) ?? 0) + intervalMs - Date.now());
    timers.set(
      e.campaignId,
      setTimeout(() => flush(e.campaignId), wait),
    );
  });
  return () => {
    off();
    for (const t of timers.values()) clearTimeout(t);
  };
}
