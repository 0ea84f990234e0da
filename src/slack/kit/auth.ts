import type { Authorize } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';

const identity = z.object({ user_id: z.string(), bot_id: z.string() }).loose();

/**
 * Bolt's authorization from the bot's identity, asked of auth.test once (at start-up) and kept, so
 * no ack waits on auth.test (Bolt's own, without a known identity, calls it on every request).
 * Until it is known (auth.test failed at start-up), requests go on with the token alone while it
 * is asked again; the one listener that needs it (file_shared, to skip the bot's own uploads)
 * waits for it after the ack.
 */
export function cachedAuthorization(client: WebClient, botToken: string) {
  let known: { botId: string; botUserId: string } | undefined;
  let asking: Promise<{ botId: string; botUserId: string }> | undefined;
  const verify = () => {
    asking ??= client.auth.test().then(
      (r) => {
        const id = identity.parse(r);
        known = { botId: id.bot_id, botUserId: id.user_id };
        return known;
      },
      (err: unknown) => {
        asking = undefined;
        throw err;
      },
    );
    return asking;
  };
  const authorize: Authorize<boolean> = async () => {
    if (known) return { botToken, ...known };
    verify().catch(() => {});
    return { botToken };
  };
  return { authorize, verify };
}
