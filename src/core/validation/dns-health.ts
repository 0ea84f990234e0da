import type { ResolverHealth } from './dns.js';

/** How a probe's answer reads in a sentence ("… answered NXDOMAIN for gmail.com"). */
function phrase(answer: string, timeoutMs: number): string {
  switch (answer) {
    case 'ENOTFOUND':
      return 'answered NXDOMAIN';
    case 'ESERVFAIL':
      return 'answered SERVFAIL';
    case 'EREFUSED':
      return 'answered REFUSED';
    case 'ENODATA':
      return 'gave no MX record';
    case 'ETIMEOUT':
      return `gave no answer within ${timeoutMs >= 1000 ? `${timeoutMs / 1000}s` : `${timeoutMs}ms`}`;
    case 'ECONNREFUSED':
      return 'refused the connection';
    default:
      return `failed (${answer})`;
  }
}

const list = (items: string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

/** "127.0.0.53 answered NXDOMAIN for gmail.com and outlook.com, and gave no answer within 5s for yahoo.com". */
export function describeResolverFailure(health: Extract<ResolverHealth, { ok: false }>): string {
  const byPhrase = new Map<string, string[]>();
  for (const { domain, answer } of health.answers) {
    const p = phrase(answer, health.timeoutMs);
    byPhrase.set(p, [...(byPhrase.get(p) ?? []), domain]);
  }
  const who =
    health.resolvers.length === 0 ? 'the system resolver' : `the resolver ${list(health.resolvers)}`;
  return `${who} ${list([...byPhrase].map(([p, domains]) => `${p} for ${list(domains)}`))}`;
}

const whatToDo =
  'Check VALIDATION_DNS_SERVERS (empty: the system resolvers in /etc/resolv.conf) and that this server can reach them, ' +
  'then validate again (this check looks up VALIDATION_PROBE_DOMAINS).';

/**
 * What a run stopped for a broken resolver tells people: nothing was marked at the start, or
 * which contacts keep the verdicts written before DNS failed.
 */
export function dnsUnavailableMessage(
  health: Extract<ResolverHealth, { ok: false }>,
  progress: { checked: number; total: number },
): string {
  const why = describeResolverFailure(health);
  if (progress.checked === 0) {
    return `DNS lookups are failing on this server (${why}); no contact was marked. ${whatToDo}`;
  }
  const rest = Math.max(0, progress.total - progress.checked);
  return (
    `DNS lookups started failing on this server during the run (${why}); the ${progress.checked.toLocaleString('en-US')} contacts ` +
    `checked before that keep their verdicts, the other ${rest.toLocaleString('en-US')} were not marked. ${whatToDo}`
  );
}
