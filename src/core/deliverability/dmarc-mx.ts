import { dkimDomainOf } from './dkim.js';
import { evaluateDmarc } from './mailauth.js';
import { dnsCode, isNoRecords } from './resolver.js';
import type { SendingDomain } from './senders.js';
import type { DoctorCheck, DoctorSettings, Resolve } from './types.js';

const make =
  (name: 'dmarc' | 'mx', title: string) =>
  (result: DoctorCheck['result'], detail: string, fix: string | null): DoctorCheck => ({
    name,
    title,
    result,
    detail,
    fix,
  });

/**
 * DMARC: a record at _dmarc.<domain> (or the organisational domain) with a policy, and the From
 * domain aligned with the envelope (SPF) domain or the DKIM domain, as the record asks (relaxed
 * or strict). No record fails; p=none warns (monitoring only).
 */
export async function checkDmarc(
  resolve: Resolve,
  settings: Pick<DoctorSettings, 'dkim'>,
  target: SendingDomain,
): Promise<DoctorCheck> {
  const check = make('dmarc', 'DMARC');
  const dkimDomain = dkimDomainOf(settings, target);
  const r = await evaluateDmarc(resolve, target.address, target.envelopeDomain, dkimDomain);
  const d = target.domain;
  if (r.result === 'temperror')
    return check(
      'warn',
      `The DMARC record of ${d} could not be read: ${r.error ?? 'DNS failed'}.`,
      'Check the DNS servers (DNS_SERVERS) answer, then run the doctor again.',
    );
  if (r.result === 'none')
    return check(
      'fail',
      `${d} has no DMARC record (at _dmarc.${d} or its organisational domain): since 2024 Gmail and Yahoo refuse or junk bulk mail without one.`,
      `Add a TXT record at _dmarc.${d}: v=DMARC1; p=none; rua=mailto:dmarc@${d} — start with p=none, read the reports, then move to p=quarantine.`,
    );
  const where = r.domain && r.domain !== d ? ` (the record of ${r.domain}, which covers ${d})` : '';
  if (!r.policy)
    return check(
      'fail',
      `The DMARC record of ${d}${where} has no p= policy (${r.record ?? ''}): receivers ignore it.`,
      `Write the record as v=DMARC1; p=none; rua=mailto:dmarc@${d} (p= right after v=DMARC1).`,
    );
  const spfWords = `the envelope domain ${target.envelopeDomain}${r.strict.spf ? ' (strict: aspf=s)' : ''}`;
  const dkimWords = `the DKIM domain ${dkimDomain}${r.strict.dkim ? ' (strict: adkim=s)' : ''}`;
  if (!r.spfAligned && !r.dkimAligned)
    return check(
      'fail',
      `DMARC p=${r.policy}${where}, but ${d} aligns with neither ${spfWords} nor ${dkimWords}: every message fails DMARC.`,
      `Use a MAIL_BOUNCE_ADDRESS and a DKIM_DOMAIN on ${d} (or a subdomain of it), or send from the domain they are on.`,
    );
  const aligned = [r.spfAligned ? spfWords : null, r.dkimAligned ? dkimWords : null].filter(Boolean);
  const unaligned = !r.spfAligned ? spfWords : !r.dkimAligned ? dkimWords : null;
  const detail =
    `DMARC p=${r.policy}${where}; ${d} aligns with ${aligned.join(' and ')}` +
    (unaligned ? ` (not with ${unaligned}, which is enough as long as the other passes)` : '') +
    '.';
  if (r.policy === 'none')
    return check(
      'warn',
      `${detail} p=none only monitors: it asks receivers to do nothing with mail that fails.`,
      `Once the reports show your mail passes, raise the policy at _dmarc.${r.domain ?? d} to p=quarantine (then p=reject).`,
    );
  return check('pass', detail, null);
}

/**
 * MX of the From domain: replies and the unsubscribe mailto must reach someone. An MX passes; no MX
 * but an address (mail goes to it, RFC 5321 §5.1) warns; a null MX, or neither, fails.
 */
export async function checkMx(
  resolve: Resolve,
  settings: Pick<DoctorSettings, 'unsubscribeMailto'>,
  target: SendingDomain,
): Promise<DoctorCheck> {
  const check = make('mx', 'MX (replies)');
  const d = target.domain;
  const mailto = settings.unsubscribeMailto?.toLowerCase().endsWith(`@${d}`)
    ? ` and the unsubscribe mailto (${settings.unsubscribeMailto})`
    : '';
  const fix = `Add an MX record for ${d} pointing at your mail provider (Google Workspace: smtp.google.com; Microsoft 365: <your-domain>.mail.protection.outlook.com).`;
  let mx: { exchange: string; priority: number }[] = [];
  try {
    const rows = await resolve(d, 'MX');
    if (Array.isArray(rows))
      mx = rows.flatMap((row: unknown) =>
        typeof row === 'object' && row !== null && 'exchange' in row
          ? [{ exchange: String(row.exchange), priority: 'priority' in row ? Number(row.priority) : 0 }]
          : [],
      );
  } catch (e) {
    if (!isNoRecords(e))
      return check(
        'warn',
        `The MX of ${d} could not be looked up (${dnsCode(e)}).`,
        'Check the DNS servers (DNS_SERVERS) answer, then run the doctor again.',
      );
  }
  if (mx.length === 1 && (mx[0]?.exchange === '' || mx[0]?.exchange === '.'))
    return check('fail', `${d} says it receives no mail (a null MX): replies${mailto} bounce.`, fix);
  if (mx.length > 0) {
    const hosts = mx.sort((a, b) => a.priority - b.priority).map((m) => m.exchange);
    return check('pass', `Replies${mailto} to ${d} go to ${hosts.join(', ')}.`, null);
  }
  const a = await resolve(d, 'A').catch(() => []);
  if (Array.isArray(a) && a.length > 0)
    return check(
      'warn',
      `${d} has no MX record: replies${mailto} go to its web address (${a.map(String).join(', ')}), which rarely receives mail.`,
      fix,
    );
  return check('fail', `${d} has no MX record and no address: replies${mailto} bounce.`, fix);
}
