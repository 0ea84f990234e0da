import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../kit/context.js';
import { register as batchSchedule } from './batch-schedule.js';
import { register as campaignNew } from './campaign-new.js';

/** Modal submissions (blocks/action-ids.ts lists their callback ids). */
export function register(app: App, deps: SlackDeps): void {
  campaignNew(app, deps);
  batchSchedule(app, deps);
}
