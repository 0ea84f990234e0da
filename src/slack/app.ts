import { type App, ExpressReceiver, type Receiver, SocketModeReceiver, webApi } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Router } from 'express';
import { z } from 'zod';
import type { SlackConfig } from '../config.js';
import type { FileClaim } from '../core/inbox/inbox-service.js';
import type { Services } from '../core/index.js';
import { boltLogger, type Logger } from '../logger.js';
import { errorBlocks } from './blocks/common.js';
import { followCampaigns } from './flows/campaign-progress.js';
import { followReplies, type ReplyNotices } from './flows/reply-notice.js';
import { cachedAuthorization } from './kit/auth.js';
import { Background, type SlackDeps } from './kit/context.js';
import { followNotices } from './kit/notices.js';
import { AnsweringApp, processEventErrorHandler } from './kit/unanswered.js';
import { register as actions } from './listeners/actions/index.js';
import { register as commands } from './listeners/commands/index.js';
import { register as events } from './listeners/events/index.js';
import { register as views } from './listeners/views/index.js';

export type SlackRuntime = {
  mode: 'socket' | 'http';
  bolt: App;
  /** A Web API client with the bot token, for work that is not an answer to a request. */
  client: WebClient;
  background: Background;
  /** Posts the reply notices not posted yet (the app runs it every minute); resolves with how many. */
  sweepReplies(): Promise<number>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type SlackOptions = {
  config: SlackConfig;
  services: Services;
  log: Logger;
  importMaxBytes: number;
  /** In HTTP mode, the router (in the app's Express stack) Bolt's POST /slack/events goes on. */
  router?: Router;
  /** Web API retries (the SDK's backoff); tests set 0 so failures show at once. */
  retries?: number;
  /** How long one Web API request may take before it is given up (and retried); default 60 s. */
  timeoutMs?: number;
  /** How often a long import's message shows progress (default 2 s). */
  progressIntervalMs?: number;
};

const eventEnvelope = z.object({ event_id: z.string().min(1) });

const listeners = [events, commands, actions, views];

const replyTo = z.object({ channel: z.string(), ts: z.string() });

/** After a restart, says in each interrupted import's thread that the file must be sent again. */
export async function announceInterrupted(
  slack: SlackRuntime,
  claims: FileClaim[],
  log: Logger,
): Promise<void> {
  for (const c of claims) {
    const where = c.replyTo ? replyTo.safeParse(JSON.parse(c.replyTo)) : null;
    if (!where?.success) continue;
    await slack.client.chat
      .update({
        channel: where.data.channel,
        ts: where.data.ts,
        text: 'Import interrupted',
        blocks: errorBlocks(
          'This import was interrupted by a restart and nothing was imported. Upload the file again to import it.',
        ),
      })
      .catch((err: unknown) =>
        log.warn({ err, externalId: c.externalId }, 'could not announce interrupted import'),
      );
  }
}

/** Builds the Bolt app: Socket Mode when an app token is set, otherwise HTTP on the shared Express app. */
export function createSlack(opts: SlackOptions): SlackRuntime {
  const { config } = opts;
  const log = opts.log.child({ module: 'slack' });
  const logger = boltLogger(opts.log);
  const clientOptions = {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    ...(opts.retries !== undefined ? { retryConfig: { retries: opts.retries } } : {}),
    // The SDK waits forever by default: a Slack request that hangs would hold its import reply,
    // its progress update and the shutdown that waits for them. Long enough for an export upload.
    timeout: opts.timeoutMs ?? 60_000,
  };
  const mode = config.appToken ? 'socket' : 'http';
  let receiver: Receiver;
  if (config.appToken) {
    receiver = new SocketModeReceiver({
      appToken: config.appToken,
      logger,
      installerOptions: { clientOptions },
    });
  } else {
    if (!opts.router || !config.signingSecret)
      throw new Error('HTTP mode needs the Express router and a signing secret');
    receiver = new ExpressReceiver({
      signingSecret: config.signingSecret,
      router: opts.router,
      endpoints: '/slack/events',
      logger,
      processEventErrorHandler: processEventErrorHandler(log),
    });
  }
  // auth.test runs once at start() (and again after a failure) instead of eagerly at construction,
  // where a failure would be an unhandled rejection; the identity it gives is kept for every request.
  const client: WebClient = new webApi.WebClient(config.botToken, { ...clientOptions, logger });
  const auth = cachedAuthorization(client, config.botToken);
  const bolt = new AnsweringApp({ authorize: auth.authorize, receiver, logger, clientOptions });
  const background = new Background();
  const deps: SlackDeps = {
    services: opts.services,
    slack: config,
    log,
    importMaxBytes: opts.importMaxBytes,
    background,
    progressIntervalMs: opts.progressIntervalMs ?? 2000,
    botUserId: async () => (await auth.verify()).botUserId,
  };

  // Each Slack event is handled once, even when Slack retries it or after a restart.
  bolt.use(async ({ body, next }) => {
    // Tracked so shutdown (and tests) can wait for work that runs after the ack — from before the
    // duplicate check: Bolt acks an event before this runs, and on a database in another process
    // the check takes a round trip; tracked only after it, a shutdown (or a test) arriving in
    // between would not wait, and the event would be recorded as seen but never handled.
    const handling = (async () => {
      const event = eventEnvelope.safeParse(body);
      if (event.success && !(await deps.services.inbox.firstDelivery(event.data.event_id))) {
        log.info({ eventId: event.data.event_id }, 'duplicate Slack event ignored');
        return;
      }
      await next();
    })();
    background.run(handling);
    await handling;
  });
  for (const register of listeners) register(bolt, deps);
  let unfollow: (() => void) | undefined;
  let replies: ReplyNotices | undefined;
  const sweepReplies = async (): Promise<number> => {
    if (!replies) return 0;
    const pass = replies.sweep();
    background.run(pass); // shutdown waits for a pass under way
    return pass;
  };
  bolt.error(async (error) => {
    log.error({ err: error }, 'unhandled Slack error');
  });

  return {
    mode,
    bolt,
    client,
    background,
    sweepReplies,
    start: async () => {
      await auth.verify().then(
        (r) => log.info({ botUserId: r.botUserId }, 'Slack bot token verified'),
        (err: unknown) =>
          log.warn({ err }, 'Slack bot token could not be verified now; will retry on the first request'),
      );
      if (mode === 'socket') await bolt.start();
      const unfollowCampaigns = followCampaigns(deps, client, deps.progressIntervalMs);
      const unfollowNotices = followNotices(deps, client);
      replies = followReplies(deps, client);
      const r = replies;
      unfollow = () => {
        unfollowCampaigns();
        unfollowNotices();
        r.stop();
      };
      // Replies stored while Slack was away (or before a restart) are posted now.
      sweepReplies().catch((err: unknown) => log.warn({ err }, 'reply notices not posted at start'));
      log.info(
        { mode },
        mode === 'socket' ? 'Slack connected in Socket Mode' : 'Slack listening at POST /slack/events',
      );
    },
    stop: async () => {
      unfollow?.();
      if (mode === 'socket') await bolt.stop();
      await background.idle();
    },
  };
}
