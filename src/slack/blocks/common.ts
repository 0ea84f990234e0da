import type { types } from '@slack/bolt';
import { clip, esc } from '../kit/escape.js';

export type KnownBlock = types.KnownBlock;
type Button = types.Button;

/** Slack shows this in each reader's own timezone; the fallback is UTC. */
export function localTime(iso: string): string {
  const unix = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${unix}^{date_short_pretty} at {time}|${iso.slice(0, 16).replace('T', ' ')} UTC>`;
}

export const text = (s: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(s, 3000) },
});
export const context = (s: string): KnownBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: clip(s, 3000) }],
});
export const divider: KnownBlock = { type: 'divider' };

export function button(label: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: label },
    action_id: actionId,
    value: clip(value, 2000),
    ...(style ? { style } : {}),
  };
}

/** `<!date^…>` renders in each reader's own timezone. */
export function when(iso: string | null): string {
  if (!iso) return '—';
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${iso}>`;
}

export const code = (s: string) => `\`${esc(s).replace(/`/g, "'")}\``;

export const n = (x: number) => x.toLocaleString('en-US');

/** A warning block; `mrkdwn` must already be escaped (see failureText). */
export function errorBlocks(mrkdwn: string): KnownBlock[] {
  return [text(`:warning: ${mrkdwn}`)];
}

/** A Slack user id as a mention; anything else (api, cli) as code. */
export const who = (actor: string) =>
  /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : `\`${esc(actor)}\``;
