import type { DoctorCheck, DoctorReport } from '../../../../core/deliverability/types.js';
import { code, context, divider, type KnownBlock, localTime, text } from '../../../blocks/common.js';
import type { Subcommand } from '../../../kit/command.js';
import { esc } from '../../../kit/escape.js';

const icon = { pass: ':white_check_mark:', warn: ':warning:', fail: ':x:' } as const;

/** Slack shows at most 50 blocks: a long report keeps its first checks and says how many are left out. */
const maxBlocks = 48;

const checkBlock = (c: DoctorCheck): KnownBlock =>
  text(`${icon[c.result]} *${esc(c.title)}* ${esc(c.detail)}${c.fix ? `\n_What to do:_ ${esc(c.fix)}` : ''}`);

/** The report as blocks: a summary line, then each domain's checks and the general ones. */
export function doctorBlocks(report: DoctorReport): KnownBlock[] {
  const all = [...report.domains.flatMap((d) => d.checks), ...report.general];
  const count = (r: DoctorCheck['result']) => all.filter((c) => c.result === r).length;
  const head =
    report.worst === 'fail'
      ? `${icon.fail} *Domain doctor:* ${count('fail')} failed, ${count('warn')} warned. A campaign will not start while a check fails, unless an admin confirms.`
      : report.worst === 'warn'
        ? `${icon.warn} *Domain doctor:* nothing failed, ${count('warn')} warned.`
        : `${icon.pass} *Domain doctor:* every check passed.`;
  const blocks: KnownBlock[] = [text(head)];
  if (report.domains.length === 0) blocks.push(text('No From domain to check: set MAIL_FROM.'));
  for (const d of report.domains) {
    const via =
      d.relays.length > 0
        ? `via ${d.relays.map(code).join(', ')}`
        : '(the outbox: nothing leaves this machine)';
    blocks.push(divider, context(`*${esc(d.domain)}* — ${d.identities.map(code).join(', ')} ${via}`));
    blocks.push(...d.checks.map(checkBlock));
  }
  blocks.push(divider, context('*Setup*'), ...report.general.map(checkBlock));
  const foot = context(
    `Checked ${localTime(report.checkedAt)}. \`/campaigns doctor fresh\` checks again; docs/before-first-send.md explains each check.`,
  );
  if (blocks.length + 1 <= maxBlocks) return [...blocks, foot];
  const kept = blocks.slice(0, maxBlocks - 2);
  return [
    ...kept,
    context(`…and ${blocks.length - kept.length} more: \`npm run doctor\` or GET /doctor shows them all.`),
    foot,
  ];
}

/** `/campaigns doctor [fresh]`: anyone may look; `fresh` checks again instead of the kept report. */
export const doctor: Subcommand = async ({ deps, words: [again] }) =>
  doctorBlocks(await deps.services.doctor.run({ fresh: again?.toLowerCase() === 'fresh' }));
