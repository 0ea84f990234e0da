import type { SlackConfig } from '../../config.js';
import type { Services } from '../../core/index.js';
import { DomainError, isDomainError, storageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { esc } from './escape.js';

/** Work started after an ack (imports), tracked so shutdown and tests can wait for it. */
export class Background {
  private readonly running = new Set<Promise<unknown>>();
  run(p: Promise<unknown>): void {
    this.running.add(p);
    // Forgotten once settled either way. Not `finally`: its promise would carry a rejection no one
    // handles (the caller or Bolt's error handler does), and an unhandled rejection ends the process.
    const forget = () => this.running.delete(p);
    p.then(forget, forget);
  }
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

export type SlackDeps = {
  services: Services;
  slack: SlackConfig;
  log: Logger;
  importMaxBytes: number;
  background: Background;
  /** How often a long import's message is updated with progress. */
  progressIntervalMs: number;
  /** The bot's user id (known from start-up; asked of auth.test again if it failed then). */
  botUserId: () => Promise<string>;
};

/** Refuses a change to anyone outside SLACK_ADMIN_USERS, when that list is set. */
export function assertAdmin(deps: SlackDeps, userId: string, what: string): void {
  const admins = deps.slack.adminUsers;
  if (admins.length > 0 && !admins.includes(userId)) {
    throw new DomainError('forbidden', `Only coldbatch admins may ${what}.`);
  }
}

/**
 * The mrkdwn a person sees for a failure (already escaped): the domain's message, or a generic
 * one while the details go to the log.
 */
export function failureText(deps: SlackDeps, thrown: unknown, doing: string): string {
  return failureMessage(deps, thrown, doing, 'mrkdwn');
}

/**
 * The same failure as plain text, for the places Slack shows text as it is (a modal's `errors`):
 * nothing escaped, and admins named as "a coldbatch admin" instead of mentions.
 */
export function failurePlainText(deps: SlackDeps, thrown: unknown, doing: string): string {
  return failureMessage(deps, thrown, doing, 'plain');
}

function failureMessage(deps: SlackDeps, thrown: unknown, doing: string, as: 'mrkdwn' | 'plain'): string {
  const t = as === 'mrkdwn' ? esc : (s: string) => s;
  const storage = storageError(thrown);
  if (storage) deps.log.error({ err: thrown, doing }, 'slack handler failed: storage');
  const e = storage ?? thrown;
  if (isDomainError(e)) {
    if (e.code !== 'forbidden' || deps.slack.adminUsers.length === 0) return t(e.message);
    const admins = deps.slack.adminUsers.map((a) => `<@${a}>`).join(', ');
    return as === 'mrkdwn' ? `${t(e.message)} Ask one of them: ${admins}.` : `${e.message} Ask one of them.`;
  }
  deps.log.error({ err: e, doing }, 'slack handler failed');
  return `Something went wrong while ${t(doing)}. Nothing was changed; try again, and tell your admin if it keeps failing.`;
}
