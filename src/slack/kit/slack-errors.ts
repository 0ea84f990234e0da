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
