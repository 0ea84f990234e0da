import type { RespondArguments, RespondFn } from '@slack/bolt';
import { z } from 'zod';

/** Waits before each new try to answer through a response_url (Slack keeps one valid for 30 min). */
export const respondRetryDelaysMs = [500, 2_000, 5_000];

const failure = z
  .object({
    statusCode: z.number().optional(),
    response: z.object({ status: z.number() }).loose().optional(),
    code: z.string().optional(),
  })
  .loose();

/**
 * Worth trying again: Slack answered 5xx or 429, or the request got no answer at all (a network
 * error code such as ECONNRESET or ETIMEDOUT). A programming error (no status, no code) is not.
 */
function isTransient(e: unknown): boolean {
  const parsed = failure.safeParse(e);
  if (!parsed.success) return false;
  const status = parsed.data.statusCode ?? parsed.data.response?.status;
  if (status !== undefined) return status === 429 || status >= 500;
  const code = parsed.data.code ?? '';
  return /^E[A-Z]+/.test(code) || code === 'ERR_NETWORK';
}

/**
 * An answer through a response_url. `text` is required: it is what notifications, screen readers
 * and clients that cannot show the blocks show (Slack asks for it with every message that has blocks).
 */
export type Answer = RespondArguments & { text: string };
export type AnswerFn = (message: Answer) => Promise<unknown>;

/**
 * respond() that tries again while Slack fails (5xx, 429, the network): by the time we answer, the
 * user's change is made, so the answer must not be lost to a passing Slack failure. The last
 * failure is thrown, for Bolt's error handler to log.
 */
export function respondReliably(respond: RespondFn, delaysMs = respondRetryDelaysMs): AnswerFn {
  return async (message) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await respond(message);
      } catch (e) {
        const delay = delaysMs[attempt];
        if (delay === undefined || !isTransient(e)) throw e;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}
