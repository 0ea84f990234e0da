import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { SlackDeps } from '../../kit/context.js';
import { publishHome } from '../../views/home.js';

const homeOpened = z.object({ user: z.string(), tab: z.string().optional() }).loose();

/** `app_home_opened`: publishes the Home tab (Upload CSV, Manage Batches, Send). */
export function register(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event, client }) => {
    const e = homeOpened.parse(event);
    if (e.tab && e.tab !== 'home') return;
    await publishHome(deps, client, e.user);
  });
}
