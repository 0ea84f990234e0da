import { Resolver } from 'node:dns/promises';
import type { Resolve } from './types.js';

/** An error like node:dns's, with its code (what SPF evaluation branches on). */
class DnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * DNS lookups through the configured servers (DNS_SERVERS; empty: the system's), one try each,
 * given up after `timeoutMs` (c-ares may wait twice its timeout before it does).
 */
export function dnsResolve(servers: readonly string[], timeoutMs: number): Resolve {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return (name, type) => {
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DnsError('ETIMEOUT', `${type} ${name}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([resolver.resolve(name, type), guard]).finally(() => clearTimeout(timer));
  };
}

/** The code of a DNS error (ENOTFOUND, ENODATA, ETIMEOUT…), or EUNKNOWN. */
export const dnsCode = (e: unknown): string =>
  typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : 'EUNKNOWN';

/** Whether a DNS error only says "no such name" or "no such records" (rather than "no answer"). */
export const isNoRecords = (e: unknown) => ['ENOTFOUND', 'ENODATA'].includes(dnsCode(e));

/** TXT records of a name, each joined from its strings; [] when there is none. Throws on other DNS errors. */
export async function txtRecords(resolve: Resolve, name: string): Promise<string[]> {
  try {
    const rows = await resolve(name, 'TXT');
    if (!Array.isArray(rows)) return [];
    return rows.map((r: unknown) => (Array.isArray(r) ? r.join('') : String(r)));
  } catch (e) {
    if (isNoRecords(e)) return [];
    throw e;
  }
}

/**
 * Whether DNS works from here: null when one of the domains known to have an MX (VALIDATION_PROBE_DOMAINS)
 * gets one, else what each answered. A resolver that cannot reach the internet often says "no such
 * domain" for everything: without this, the doctor would tell you your domain has no SPF.
 */
export async function dnsFailure(resolve: Resolve, probeDomains: readonly string[]): Promise<string | null> {
  if (probeDomains.length === 0) return null;
  const answers = await Promise.all(
    probeDomains.map((d) =>
      resolve(d, 'MX').then(
        (rows) => (Array.isArray(rows) && rows.length > 0 ? null : `${d}: no MX`),
        (e: unknown) => `${d}: ${dnsCode(e)}`,
      ),
    ),
  );
  return answers.some((a) => a === null) ? null : answers.join(', ');
}
