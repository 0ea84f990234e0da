import { BlockList, isIP } from 'node:net';
import { evaluateSpf } from './mailauth.js';
import { providerOf } from './providers.js';
import { isNoRecords, txtRecords } from './resolver.js';
import type { SendingDomain } from './senders.js';
import { type DoctorCheck, type Relay, type Resolve, worstOf } from './types.js';

/** An address no domain authorises (TEST-NET-1, RFC 5737): a pass for it means the record lets anyone send. */
const nobody = '192.0.2.1';

/** Addresses a relay may have that say nothing about where its mail leaves from. */
const notPublic = new BlockList();
for (const [net, bits] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
  ['0.0.0.0', 8],
] as const)
  notPublic.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  notPublic.addSubnet(net, bits, 'ipv6');

const isPublic = (ip: string) => !notPublic.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');

/** The IPv4 addresses a relay host resolves to (itself when it is one); [] when unknown. */
async function addressesOf(resolve: Resolve, host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    const a = await resolve(host, 'A');
    return Array.isArray(a) ? a.map(String) : [];
  } catch {
    return [];
  }
}

/** The terms of a domain's SPF record and every domain it includes or redirects to (at most 10 records read). */
async function spfTree(resolve: Resolve, domain: string): Promise<{ terms: string[]; reached: Set<string> }> {
  const reached = new Set<string>();
  let terms: string[] = [];
  const queue = [domain];
  while (queue.length > 0 && reached.size < 10) {
    const d = queue.shift()!;
    if (reached.has(d)) continue;
    reached.add(d);
    const record = (await txtRecords(resolve, d).catch(() => [])).find((t) => /^v=spf1(\s|$)/i.test(t));
    const parts = record?.trim().split(/\s+/).slice(1) ?? [];
    if (d === domain) terms = parts;
    for (const p of parts) {
      const m = /^[+?~-]?(?:include:|redirect=)(.+)$/i.exec(p);
      if (m?.[1] && !m[1].includes('%')) queue.push(m[1].toLowerCase().replace(/\.$/, ''));
    }
  }
  return { terms, reached };
}

type Part = { result: DoctorCheck['result']; detail: string; fix: string | null };

/** Whether the record lets one relay send: evaluated for its address, or through its provider's include. */
async function relayPart(resolve: Resolve, domain: string, relay: Relay): Promise<Part> {
  const provider = providerOf(relay.host);
  const ips = (await addressesOf(resolve, relay.host)).filter(isPublic);
  for (const ip of ips) {
    const r = await evaluateSpf(resolve, domain, ip);
    if (r.result === 'pass')
      return { result: 'pass', detail: `It authorises ${relay.host} (${ip}).`, fix: null };
  }
  const tree = await spfTree(resolve, domain);
  if (provider) {
    if (tree.reached.has(provider.spfInclude))
      return {
        result: 'pass',
        detail: `It includes ${provider.spfInclude}, ${provider.name}'s outbound servers (${relay.host}).`,
        fix: null,
      };
    return {
      result: 'warn',
      detail: `It does not include ${provider.spfInclude}, so ${provider.name}'s servers (${relay.host}) are not authorised: receivers may junk the mail.`,
      fix: `Add include:${provider.spfInclude} to the SPF record of ${domain}, before its all (one record only).`,
    };
  }
  if (ips.length > 0)
    return {
      result: 'warn',
      detail: `It does not authorise ${relay.host} (${ips.join(', ')}), the relay in ${relay.label}.`,
      fix: `Add the include your relay's provider documents (or ip4:${ips[0]}) to the SPF record of ${domain}.`,
    };
  const relies = tree.terms.filter((t) => /^[+]?(include:|ip4:|ip6:|a\b|mx\b|redirect=)/i.test(t));
  return {
    result: 'pass',
    detail:
      `coldbatch cannot see which address ${relay.host} sends from, so it relies on the record: ` +
      `${relies.length > 0 ? relies.join(' ') : 'no include or address'}. Make sure your relay is among them.`,
    fix: null,
  };
}

/**
 * SPF of the envelope domain (what receivers check): a record exists and parses, does not let
 * everyone send (+all), needs at most 10 DNS lookups, and authorises each relay used.
 */
export async function checkSpf(resolve: Resolve, target: SendingDomain): Promise<DoctorCheck> {
  const d = target.envelopeDomain;
  const of = d === target.domain ? d : `${d} (the envelope sender, MAIL_BOUNCE_ADDRESS)`;
  const check = (result: DoctorCheck['result'], detail: string, fix: string | null): DoctorCheck => ({
    name: 'spf',
    title: 'SPF',
    result,
    detail,
    fix,
  });
  const anyone = await evaluateSpf(resolve, d, nobody);
  if (anyone.result === 'none')
    return check(
      'fail',
      `${of} has no SPF record: receivers cannot tell which servers may send as it, and Gmail and Yahoo junk or refuse bulk mail without one.`,
      `Add one TXT record at ${d}: v=spf1 include:<your provider's include> -all (Google Workspace: include:_spf.google.com; Microsoft 365: include:spf.protection.outlook.com).`,
    );
  if (anyone.result === 'temperror')
    return check(
      'warn',
      `The SPF record of ${of} could not be read: ${anyone.reason}.`,
      'Check the DNS servers (DNS_SERVERS) answer, then run the doctor again.',
    );
  if (anyone.result === 'permerror') {
    const tooMany = /Too many DNS requests/i.test(anyone.reason);
    return check(
      'fail',
      tooMany
        ? `The SPF record of ${of} needs more than 10 DNS lookups (includes, a, mx, exists): receivers stop there and treat it as broken.`
        : `The SPF record of ${of} is broken: ${anyone.reason}.`,
      tooMany
        ? 'Remove includes of services you no longer use, or replace some with the ip4:/ip6: ranges they stand for.'
        : `Fix the record: one TXT record starting v=spf1 at ${d}, mechanisms separated by spaces, ending with -all or ~all.`,
    );
  }
  const record = anyone.record ?? '';
  if (anyone.result === 'pass')
    return check(
      'fail',
      `The SPF record of ${of} (${record}) authorises every server on the internet (+all or an equivalent): anyone may send as you, and receivers distrust it.`,
      'End the record with -all (or ~all) instead of +all, and list only your providers.',
    );
  const lookups = anyone.lookups === null ? '' : ` (${anyone.lookups} of 10 DNS lookups)`;
  const head = `${of} has an SPF record${lookups}: ${record}.`;
  if (target.relays.length === 0)
    return check('pass', `${head} No SMTP relay is set (the outbox), so no relay to check.`, null);
  const parts: Part[] = [];
  for (const relay of target.relays) {
    try {
      parts.push(await relayPart(resolve, d, relay));
    } catch (e) {
      if (!isNoRecords(e)) throw e;
    }
  }
  const fixes = [...new Set(parts.map((p) => p.fix).filter((f): f is string => f !== null))];
  return check(
    worstOf(parts.map((p) => p.result)),
    [head, ...new Set(parts.map((p) => p.detail))].join(' '),
    fixes.length > 0 ? fixes.join(' ') : null,
  );
}
