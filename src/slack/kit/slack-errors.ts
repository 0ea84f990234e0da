import { z } from 'zod';

const slackError = z.object({ data: z.object({ error: z.string() }) });

/** Slack refused a post because the app is not in the channel (or cannot see it). */
export function notInChannel(thrown: unknown): boolean {
  const code = slackError.safeParse(thrown).data?.data.error;
  return code === 'not_in_channel' || code === 'channel_not_found';
}

/** Why a post to the channel failed, as a person can act on it; null when it is not about the channel. */
export function channelProblem(thrown: unknown): string | null {
  return notInChannel(thrown)
    ? 'I am not in this channel: `/invite @coldbatch` here, or run `/batches report <id>` in a channel I am in.'
    : null;
}

/**
 * Slack's refusals of a post that trying again will not change: the place (not in the channel, no
 * such channel, archived, posting restricted) or the message itself. Null for everything else (a
 * network failure, 5xx, rate limits, a bad token): those are worth trying again later.
 */
const refusals = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'cannot_reply_to_message',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
]);

/** The error code of a post Slack refused for good (see `refusals`), else null. */
export function postRefusal(thrown: unknown): string | null {
  const code = slackError.safeParse(thrown).data?.data.error;
  return code && refusals.has(code) ? code : null;
}
