import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { createDoctor } from '../core/deliverability/settings.js';
import type { DoctorCheck, DoctorReport } from '../core/deliverability/types.js';
import { readEnv } from '../env.js';
import { createLogger } from '../logger.js';
import { parseCommandLine, runCli } from './cli-kit.js';

const mark = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

/** One line per check: its result, where, what was found and what to do. */
const line = (where: string, c: DoctorCheck) =>
  `${mark[c.result]}  ${where} ${c.title}: ${c.detail}${c.fix ? ` Fix: ${c.fix}` : ''}`;

function print(report: DoctorReport): void {
  if (report.domains.length === 0)
    console.log('No From domain to check: set MAIL_FROM (and SMTP_URL or SMTP_URLS to send real mail).');
  for (const d of report.domains) {
    const via =
      d.relays.length > 0 ? ` via ${d.relays.join(', ')}` : ' (the outbox: nothing leaves this machine)';
    console.log(`${d.domain}: ${d.identities.join(', ')}${via}`);
    for (const c of d.checks) console.log(line(d.domain, c));
  }
  for (const c of report.general) console.log(line('setup', c));
  const all = [...report.domains.flatMap((d) => d.checks), ...report.general];
  const n = (r: DoctorCheck['result']) => all.filter((c) => c.result === r).length;
  console.log(
    `${n('fail')} failed, ${n('warn')} warned, ${n('pass')} passed.` +
      (n('fail') > 0 ? ' A campaign will not start while a check fails, unless an admin confirms.' : ''),
  );
}

/** `npm run doctor`: checks each From domain's DNS (SPF, DKIM, DMARC, MX) and the rest a first send needs. */
async function main(json: boolean): Promise<number> {
  const config = loadConfig(readEnv());
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', undefined, { format: config.logFormat, fd: 2 });
  const report = await createDoctor({ log, clock: systemClock }, config).run({ fresh: true });
  if (json) console.log(JSON.stringify(report, null, 2));
  else print(report);
  return report.worst === 'fail' ? 1 : 0;
}

const usage = `Usage: npm run doctor [-- --json]

Checks what a first send needs, for the From domain of each sending identity (MAIL_FROM, and
each SMTP_URLS login on another domain): SPF (authorises the relay, no +all, at most 10 lookups),
DKIM (DKIM_SELECTOR or the relay's usual selectors, at least 1024 bits, 2048 recommended), DMARC
(a policy, the From domain aligned) and MX; then PUBLIC_URL's unsubscribe page,
MAIL_POSTAL_ADDRESS and the mailbox of INBOX_URL. One line per check: PASS, WARN or FAIL, with
what to do. DNS goes through DNS_SERVERS when set. See docs/before-first-send.md.

  --json   the whole report as JSON (the same as GET /doctor)

Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 bad input.`;

runCli('Doctor', usage, async () => {
  const { values } = parseCommandLine({ options: { json: { type: 'boolean' } } });
  return main(values.json === true);
});
