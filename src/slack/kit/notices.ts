import type { WebClient } from '@slack/web-api';
import type { AppEvent } from '../../core/events.js';
import { localTime, who } from '../blocks/common.js';
import type { SlackDeps } from './context.js';
import { esc } from './escape.js';

const slackUser = /^[UW][A-Z0-9]{2,}$/;

/** What to say for an ops event, and to whom (channel ids or user ids for a DM); null: nothing. */
export function noticeFor(deps: SlackDeps, e: AppEvent): { text: string; to: string[] } | null {
  const channel = deps.slack.notifyChannel;
  const admins = deps.slack.adminUsers;
  if (e.type === 'scheduled_activation') {
    const { schedule: s, applied, replaced } = e.outcome;
    const text = applied
      ? `:calendar: Scheduled activation applied: *${esc(s.batchName)}* \`${s.batchId}\` is now the active batch` +
        (replaced ? ` (it replaces \`${replaced}\`)` : '') +
        `. It was set for ${localTime(s.at)} by ${who(s.createdBy)}.`
      : `:warning: The activation of *${esc(s.batchName)}* \`${s.batchId}\` set for ${localTime(s.at)} could not be applied: ${esc(s.note)}`;
    // The person who scheduled it (when it came from Slack), and the notice channel.
    const to = [...(slackUser.test(s.createdBy) ? [s.createdBy] : []), ...(channel ? [channel] : [])];
    return to.length ? { text, to } : null;
  }
  if (e.type === 'backup_failed') {
    const text =
      `:rotating_light: The ${e.reason === 'nightly' ? 'nightly ' : ''}database backup failed: ${esc(e.message)}. ` +
      'Check the disk and BACKUP_DIR, then run `/batches backup` (or `npm run backup`).';
    const to = channel ? [channel] : admins;
    return to.length ? { text, to } : null;
  }
  return null;
}

/** Posts ops notices (scheduled activations applied, backups failed) as they happen. */
export function followNotices(deps: SlackDeps, client: WebClient): () => void {
  return deps.services.events.on((e) => {
    const notice = noticeFor(deps, e);
    if (!notice) return;
    for (const channel of notice.to) {
      deps.background.run(
        client.chat.postMessage({ channel, text: notice.text }).then(
          () => deps.log.info({ event: e.type, channel }, 'notice posted'),
          (err: unknown) => deps.log.warn({ err, event: e.type, channel }, 'notice not posted'),
        ),
      );
    }
  });
}
