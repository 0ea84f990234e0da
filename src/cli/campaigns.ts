import { z } from 'zod';
import type { Campaign, CampaignCounts } from '../core/campaigns/campaign.js';
import { campaignRates } from '../core/campaigns/progress.js';
import { campaignStatuses } from '../core/types.js';
import {
  cliActor,
  parseArg,
  parseResourceCommand,
  runCli,
  shortTime,
  table,
  UsageError,
  withCore,
} from './cli-kit.js';

const usage = `Usage: npm run campaigns -- [command] [options]   (default: list)

  list [--status draft|scheduled|sending|paused|held|completed|cancelled] [--limit N] [--cursor C]
                            campaigns, newest first
  show <campaign id>        one campaign: schedule, status and figures
  pause <campaign id>       stop sending before the next message (resume goes on where it stopped)
  resume <campaign id>      go on with a paused campaign, or confirm one that waits after a missed schedule
  cancel <campaign id>      stop for good: nothing more is sent
  send-anyway <campaign id> release a campaign the domain doctor held (a check failed: see npm run doctor)

  --reason TEXT             why (pause), kept with the campaign
  --json                    print JSON instead of text
  -h, --help                show this help

Changes are recorded with the actor "cli"; the running app's send engine sees them before its
next message (same database). Write and schedule campaigns in Slack or with POST /campaigns.`;

const campaignId = z.string().regex(/^cmp_[0-9a-f]{8}$/, 'must look like cmp_1a2b3c4d');

/** `npm run campaigns -- …`: list, show, pause, resume, cancel and release campaigns from a shell, over the app's core. */
async function main(): Promise<number> {
  const { values, command, id, rest, out } = parseResourceCommand();
  const extra = command === 'list' ? [id, ...rest] : rest;
  const unexpected = extra.filter((x) => x !== undefined);
  if (unexpected.length > 0) throw new UsageError(`Unexpected: ${unexpected.join(' ')}.`);

  if (command === 'list') {
    const query = {
      status: parseArg(z.enum(campaignStatuses).optional(), values.status, '--status'),
      limit: parseArg(z.coerce.number().int().min(1).max(200).optional(), values.limit, '--limit'),
      cursor: values.cursor,
    };
    return withCore(async (core) => {
      const page = await core.services.campaigns.list(query);
      const items: { campaign: Campaign; counts: CampaignCounts }[] = [];
      for (const c of page.campaigns)
        items.push({ campaign: c, counts: await core.services.campaigns.counts(c.id) });
      out({ campaigns: items, nextCursor: page.nextCursor }, () => listText(items, page.nextCursor));
    });
  }
  if (
    command === 'show' ||
    command === 'pause' ||
    command === 'resume' ||
    command === 'cancel' ||
    command === 'send-anyway'
  ) {
    const cid = parseArg(campaignId, id, `${command}: the campaign id`);
    return withCore(async (core) => {
      const campaigns = core.services.campaigns;
      if (command === 'pause') await campaigns.pause(cid, cliActor, values.reason);
      if (command === 'resume') await campaigns.resume(cid, cliActor);
      if (command === 'cancel') await campaigns.cancel(cid, cliActor);
      if (command === 'send-anyway') await campaigns.sendAnyway(cid, cliActor);
      const details = { campaign: await campaigns.get(cid), counts: await campaigns.counts(cid) };
      const done = {
        pause: 'Paused.',
        resume: 'Resumed.',
        cancel: 'Cancelled.',
        'send-anyway': 'Released: it sends despite the failing checks (recorded in its history).',
        show: '',
      }[command];
      out(details, () => (done ? `${done}\n` : '') + showText(details.campaign, details.counts));
    });
  }
  throw new UsageError(`Unknown command "${command}".`);
}

function listText(
  items: { campaign: Campaign; counts: CampaignCounts }[],
  nextCursor: string | null,
): string {
  if (items.length === 0)
    return 'No campaigns yet: write one in Slack (/campaigns new) or with POST /campaigns.';
  const rows = items.map(({ campaign: c, counts: n }) => [
    c.id,
    c.status,
    `${n.sent}/${n.total}`,
    shortTime(c.nextRunAt ?? c.sendAt),
    c.name,
  ]);
  const more = nextCursor ? `\nMore: npm run campaigns -- list --cursor ${nextCursor}` : '';
  return table([['ID', 'STATUS', 'SENT', 'NEXT RUN', 'NAME'], ...rows]) + more;
}

const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

function showText(c: Campaign, n: CampaignCounts): string {
  const rates = campaignRates(n);
  const schedule = c.cron
    ? `cron "${c.cron}" (${c.timezone})`
    : c.sendAt
      ? `once at ${shortTime(c.sendAt)}`
      : 'not scheduled (draft)';
  const lines = [
    `${c.id}  ${c.name}`,
    `status: ${c.status}${c.statusReason ? ` (${c.statusReason})` : ''}${c.awaitingConfirmation ? ', waits for confirmation (resume)' : ''}${c.status === 'held' ? ', held by the domain doctor (send-anyway releases it)' : ''}`,
    `from: ${c.from}   subject: ${c.subject}`,
    `schedule: ${schedule}   next run: ${shortTime(c.nextRunAt)}   runs: ${c.runCount}`,
    `figures: ${n.total} total, ${n.sent} sent, ${n.pending} pending, ${n.failed} failed, ${n.bounced} bounced, ` +
      `${n.unsubscribed} unsubscribed, ${n.unknown} unknown`,
    `mailbox: ${n.replied} replied (reply rate ${pct(rates.reply)}), ${n.interested} interested ` +
      `(${pct(rates.interested)} of replies), ${n.complained} complained, ${n.softBounced} soft-bounced`,
    `created: ${shortTime(c.createdAt)} by ${c.createdBy}   started: ${shortTime(c.startedAt)}   completed: ${shortTime(c.completedAt)}`,
  ];
  if (c.approval)
    lines.push(
      c.approval.approvedBy
        ? `approved by ${c.approval.approvedBy} at ${shortTime(c.approval.approvedAt)}`
        : 'waits for a second admin to approve it (Slack)',
    );
  return lines.join('\n');
}

runCli('npm run campaigns', usage, main);
