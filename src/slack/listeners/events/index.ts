import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../kit/context.js';
import { register as appHomeOpened } from './app-home-opened.js';
import { register as fileShared } from './file-shared.js';

/** The events the app subscribes to (slack-manifest.yaml lists the same). */
export function register(app: App, deps: SlackDeps): void {
  fileShared(app, deps);
  appHomeOpened(app, deps);
}
