import type {
  BatchReport,
  CampaignReach,
  KeyFigures,
  SendFigures,
} from '../../core/reports/report-service.js';
import { clip, esc } from '../kit/escape.js';
import { actorText, batchLine, reportLine } from './batches.js';
import { code, context, divider, type KnownBlock, n, text, when } from './common.js';

const maxCampaigns = 15;
const maxEvents = 10;
/** Campaigns whose variants get a section of their own (the latest ones); 50 blocks at most in all. */
const maxVariantCampaigns = 5;
/** A variants section stops before Slack's 3,000 characters, with a pointer to the rest. */
const maxVariantText = 2700;

/** A rate as a percentage with one decimal, or a dash when nothing was attempted. */
export const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);

/** The rates of some figures; reply and interested with the counts behind them (replied/sent, interested/replied). */
const rateLine = (f: SendFigures) => {
  const r = f.rates;
  return (
    `bounce ${pct(r.bounce)} · failure ${pct(r.failure)} · unsubscribe ${pct(r.unsubscribe)} · ` +
    `reply ${pct(r.reply)} (${n(f.replied)}/${n(f.sent)}) · interested ${pct(r.interested)} (${n(f.interested)}/${n(f.replied)})`
  );
};

/** Complaints and soft bounces, when there are any. */
const mailboxExtras = (f: SendFigures) =>
  (f.complained > 0 ? ` · ${n(f.complained)} complained` : '') +
  (f.softBounced > 0 ? ` · ${n(f.softBounced)} soft-bounced` : '');

/**
 * A sequence's A/B variants for the batch: one line each, with the people behind each rate
 * (replied of sent, interested of replied). Null for a campaign without variants.
 */
export function variantsText(c: CampaignReach, batchId: string): string | null {
  if (!c.variants || c.variants.length === 0) return null;
  let out = `*Variants of ${esc(clip(c.name, 80))}* ${code(c.id)}`;
  for (const [i, v] of c.variants.entries()) {
    const line =
      `\n• step ${v.step} · ${String.fromCharCode(64 + v.variant)}: ${n(v.sent)} sent · ` +
      `${n(v.replied)} replied (${pct(v.rates.reply)} of ${n(v.sent)}) · ` +
      `${n(v.interested)} interested (${pct(v.rates.interested)} of ${n(v.replied)}) · ` +
      `${n(v.bounced)} bounced · ${n(v.unsubscribed)} unsubscribed`;
    if (out.length + line.length > maxVariantText) {
      return `${out}\n…and ${c.variants.length - i} more: GET /contacts/batches/${esc(batchId)}/report`;
    }
    out += line;
  }
  return out;
}

/** The report as Block Kit: contacts, validation, campaigns with rates, sends per day, history. */
export function reportBlocks(r: BatchReport): KnownBlock[] {
  const s = r.contacts.byStatus;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: `:bar_chart: Report of ${r.batch.id}` },
    },
    text(batchLine(r.batch)),
    text(
      `*Contacts*: ${n(r.contacts.total)} — ${n(s.active)} active · ${n(s.inactive)} inactive · ` +
        `${n(s.bounced)} bounced · ${n(s.unsubscribed)} unsubscribed` +
        (s.replied > 0 ? ` · ${n(s.replied)} replied` : '') +
        (s.complained > 0 ? ` · ${n(s.complained)} complained` : ''),
    ),
  ];
  if (r.importReport) blocks.push(context(`Import: ${reportLine(r.importReport)}`));
  if (r.validation) {
    const v = r.validation.byResult;
    blocks.push(
      text(
        `*Validation*: ${n(r.validation.checked)} checked, ${n(r.validation.unchecked)} not yet — ` +
          `${n(v.valid)} valid · ${n(v.role)} role · ${n(v.disposable)} disposable · ` +
          `${n(v.no_mail_domain)} no mail domain · ${n(v.unknown)} unknown`,
      ),
    );
  }
  blocks.push(divider);
  if (r.campaigns.length === 0) {
    blocks.push(text('*Campaigns*: none has reached this batch yet.'));
  } else {
    const t = r.totals;
    const more = r.campaigns.length - maxCampaigns;
    blocks.push(text(`*Campaigns that reached it* (${r.campaigns.length})`));
    for (const c of r.campaigns.slice(0, maxCampaigns)) {
      blocks.push(
        text(
          `• *${esc(c.name)}* ${code(c.id)} (${c.status}): ${n(c.sent)} sent · ${n(c.bounced)} bounced · ` +
            `${n(c.failed)} failed · ${n(c.unknown)} unknown · ${n(c.unsubscribed)} unsubscribed · ` +
            `${n(c.replied)} replied` +
            mailboxExtras(c) +
            (c.pending > 0 ? ` · ${n(c.pending)} pending` : '') +
            `\n   ${rateLine(c)}`,
        ),
      );
    }
    if (more > 0) blocks.push(context(`…and ${more} more: GET /contacts/batches/${esc(r.batch.id)}/report`));
    // The latest campaigns with A/B variants, a section each.
    const withVariants = r.campaigns.filter((c) => (c.variants?.length ?? 0) > 0);
    for (const c of withVariants.slice(-maxVariantCampaigns)) {
      const v = variantsText(c, r.batch.id);
      if (v) blocks.push(text(v));
    }
    blocks.push(
      text(
        `*All campaigns*: ${n(t.sent)} sent to ${n(r.funnel.sent)} people · ${n(t.bounced)} bounced · ` +
          `${n(t.failed)} failed · ${n(t.unknown)} unknown · ${n(t.unsubscribed)} unsubscribed · ` +
          `${n(t.replied)} replied${mailboxExtras(t)}\n${rateLine(t)}`,
      ),
    );
  }
  if (r.sendsPerDay.length > 0) {
    const busiest = r.sendsPerDay.reduce((a, b) => (b.sent > a.sent ? b : a));
    const first = r.sendsPerDay[0]!.day;
    const last = r.sendsPerDay.at(-1)!.day;
    blocks.push(
      context(
        `Sent on ${r.sendsPerDay.length} day${r.sendsPerDay.length === 1 ? '' : 's'} (UTC), ${first} to ${last}; busiest ${busiest.day} with ${n(busiest.sent)}.`,
      ),
    );
  }
  if (r.history.length > 0) {
    const lines = r.history
      .slice(-maxEvents)
      .map(
        (e) =>
          `${when(e.at)} ${e.kind.replaceAll('_', ' ')} by ${actorText(e.actor)}${e.reason ? ` — ${esc(clip(e.reason, 200))}` : ''}`,
      );
    blocks.push(text(`*History*${r.history.length > maxEvents ? ' (latest)' : ''}\n${lines.join('\n')}`));
  }
  blocks.push(
    context(
      'Rates: bounce, failure = of attempted (sent + bounced + failed + unknown); unsubscribe, reply = of sent; ' +
        'interested = of replies. The chart is in the thread.',
    ),
  );
  return blocks;
}

/** A one-line plain-text summary (the message's notification text). */
export function reportSummary(r: BatchReport): string {
  return (
    `Report of ${r.batch.id}: ${r.contacts.total} contacts, ${r.contacts.byStatus.active} active, ` +
    `${r.totals.sent} sent, ${r.totals.bounced} bounced (${pct(r.totals.rates.bounce)}), ` +
    `${r.totals.unsubscribed} unsubscribed, ${r.totals.replied} replied (${pct(r.totals.rates.reply)})`
  );
}

/** The App Home's line about the active batch. */
export function keyFiguresBlocks(k: KeyFigures | null): KnownBlock[] {
  if (!k) return [text('*Active batch*: none. Activate a batch to send campaigns.')];
  return [
    text(
      `*Active batch* ${code(k.batchId)}: ${n(k.contacts)} contacts · ${n(k.active)} active · ` +
        `${n(k.sent)} sent · ${n(k.bounced)} bounced · ${n(k.unsubscribed)} unsubscribed · ` +
        `bounce rate ${pct(k.bounceRate)}`,
    ),
    context(`Full figures and a chart: \`/batches report ${esc(k.batchId)}\``),
  ];
}
