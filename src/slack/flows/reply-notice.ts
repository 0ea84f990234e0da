import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { ReplyNotice } from '../../core/mailbox/mailbox-service.js';
import type { KnownBlock } from '../blocks/common.js';
import { type NoticeDecision, replyNoticeBlocks, replyNoticeText } from '../blocks/reply-notice.js';
import { noticeSequenceBlocks } from '../blocks/sequences.js';
import type { SlackDeps } from '../kit/context.js';
import { postRefusal } from '../kit/slack-errors.js';

/** Where a message is: the campaign's progressRef, and the noticeRef stored for a posted notice. */
const messageRef = z.object({ channel: z.string().min(1), ts: z.string().min(1) });
const posted = z.object({ ts: z.string(), channel: z.string().optional() });

/**
 * A notice's blocks with the person's sequence in that campaign under them ("Stop sequence" while a
 * follow-up is due); `stoppedBy`: who just stopped it.
 */
export async function noticeBlocks(
  deps: SlackDeps,
  n: ReplyNotice,
  decision?: NoticeDecision,
  stoppedBy?: string,
): Promise<KnownBlock[]> {
  const person =
    n.campaignId && n.contactId ? await deps.services.sequences.person(n.campaignId, n.contactId) : null;
  return [...replyNoticeBlocks(n, decision), ...noticeSequenceBlocks(n.id, person, n.campaignId, stoppedBy)];
}

/** How many notices one read takes. */
const pageSize = 20;

type Place = { channel: string; threadTs?: string };

/** The progress message of the campaign (its thread takes the notice), when it has one. */
function progressThread(raw: string | null): Place | null {
  if (!raw) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  const ref = messageRef.safeParse(value);
  return ref.success ? { channel: ref.data.channel, threadTs: ref.data.ts } : null;
}

/** SLACK_REPLIES_CHANNEL, then the campaign's progress thread (tried when the channel refuses). */
function placesFor(deps: SlackDeps, n: ReplyNotice): Place[] {
  const thread = progressThread(n.progressRef);
  return [
    ...(deps.slack.repliesChannel ? [{ channel: deps.slack.repliesChannel }] : []),
    ...(thread ? [thread] : []),
  ];
}

/**
 * What a notice that was not posted is marked with, so it is not tried again: the noticeRef is JSON
 * this transport owns, `{channel, ts}` when posted.
 */
const notPosted = (reason: string) => JSON.stringify({ posted: false, reason });

/**
 * Posts one notice and marks it noticed: `posted`; `nowhere` (no place to post: marked as not
 * posted, logged once); `refused` (every place refused it for good: marked, logged); `later` (Slack
 * did not answer, or refused the token: left pending for the next sweep).
 */
async function postOne(
  deps: SlackDeps,
  client: WebClient,
  n: ReplyNotice,
): Promise<'posted' | 'nowhere' | 'refused' | 'later'> {
  const log = { messageId: n.id, campaignId: n.campaignId };
  const places = placesFor(deps, n);
  if (places.length === 0) {
    await deps.services.mailbox.markNoticed(n.id, notPosted('no_place'));
    deps.log.warn(
      log,
      'reply notice not posted: no SLACK_REPLIES_CHANNEL and the campaign has no progress message (the reply is in GET /inbox/messages)',
    );
    return 'nowhere';
  }
  let refusal = 'refused';
  const blocks = await noticeBlocks(deps, n);
  for (const place of places) {
    let at: z.infer<typeof posted>;
    try {
      at = posted.parse(
        await client.chat.postMessage({
          channel: place.channel,
          ...(place.threadTs ? { thread_ts: place.threadTs } : {}),
          text: replyNoticeText(n),
          blocks,
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
    } catch (err) {
      const refused = postRefusal(err);
      if (!refused) {
        deps.log.warn({ ...log, err }, 'reply notice waits: Slack failed; the next sweep tries again');
        return 'later';
      }
      refusal = refused;
      deps.log.warn({ ...log, channel: place.channel, refusal }, 'reply notice refused by Slack there');
      continue;
    }
    // Marked only once posted: a crash in between posts it again, never loses it.
    const ref = { channel: at.channel ?? place.channel, ts: at.ts };
    await deps.services.mailbox.markNoticed(n.id, JSON.stringify(ref));
    deps.log.info({ ...log, channel: ref.channel, inThread: Boolean(place.threadTs) }, 'reply notice posted');
    return 'posted';
  }
  await deps.services.mailbox.markNoticed(n.id, notPosted(refusal));
  deps.log.warn(
    log,
    'reply notice dropped: Slack refused every place for it (invite @coldbatch to SLACK_REPLIES_CHANNEL); the reply is in GET /inbox/messages',
  );
  return 'refused';
}

/** One pass: every pending notice, oldest first, until none is left or Slack fails. Returns how many were posted. */
async function postPending(deps: SlackDeps, client: WebClient): Promise<number> {
  let count = 0;
  const handled = new Set<number>();
  for (;;) {
    const page: ReplyNotice[] = await deps.services.mailbox.pendingNotices(pageSize);
    const fresh = page.filter((n) => !handled.has(n.id));
    for (const n of fresh) {
      handled.add(n.id);
      const outcome = await postOne(deps, client, n);
      if (outcome === 'later') return count;
      if (outcome === 'posted') count++;
    }
    if (page.length < pageSize || fresh.length === 0) return count;
  }
}

export type ReplyNotices = {
  /** Posts every pending notice; one pass at a time (a call during a pass makes it go round once more). */
  sweep(): Promise<number>;
  stop(): void;
};

/**
 * Reply notices: posted when core says a reply was stored (`reply_received`) and on every sweep
 * (at start and every minute), from the stored state (`pendingNotices`), so a restart or a Slack
 * outage loses none. Passes never overlap, so the event and the sweep cannot post one notice twice.
 */
export function followReplies(deps: SlackDeps, client: WebClient): ReplyNotices {
  let running: Promise<number> | null = null;
  let again = false;
  let stopped = false;
  const sweep = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    const pass = (async () => {
      let count = 0;
      try {
        do {
          again = false;
          count += await postPending(deps, client);
        } while (again && !stopped);
      } finally {
        running = null;
      }
      return count;
    })();
    running = pass;
    return pass;
  };
  const off = deps.services.events.on((e) => {
    if (e.type !== 'reply_received' || stopped) return;
    deps.background.run(sweep().catch((err: unknown) => deps.log.warn({ err }, 'reply notices not posted')));
  });
  return {
    sweep,
    stop: () => {
      stopped = true;
      off();
    },
  };
}
