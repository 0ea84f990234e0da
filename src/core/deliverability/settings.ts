import type { Config } from '../../config.js';
import type { CoreDeps } from '../types.js';
import { DoctorService } from './doctor.js';
import { networkProbes } from './probes.js';
import type { DoctorSettings, Relay } from './types.js';

/** How long a report is kept: Slack and REST look often, DNS changes slowly. */
export const doctorCacheMs = 5 * 60_000;

/** What the doctor reads of the configuration. */
export type DoctorConfig = Pick<Config, 'mail' | 'inbox' | 'validation'>;

function relayOf(label: string, url: string, dkim?: Relay['dkim']): Relay | null {
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    return { label, host, user: decodeURIComponent(u.username), ...(dkim ? { dkim } : {}) };
  } catch {
    return null;
  }
}

/** The doctor's settings from the configuration: identities, relays, DKIM selector and domain, the rest to check. */
export function doctorSettings(config: DoctorConfig): DoctorSettings {
  const m = config.mail;
  const accounts = m.accounts;
  const relays = (
    accounts.length > 0
      ? accounts.map((a, i) => relayOf(`SMTP_URLS entry ${i + 1} (${a.key})`, a.url, a.dkimSetting))
      : m.smtpUrl
        ? [relayOf('SMTP_URL', m.smtpUrl)]
        : []
  ).filter((r): r is Relay => r !== null);
  return {
    from: m.from,
    relays,
    realMail: Boolean(m.smtpUrl) || accounts.length > 0,
    bounceAddress: m.bounceAddress,
    unsubscribeMailto: m.unsubscribeMailto,
    dkim: { selector: m.dkim.selector, domain: m.dkim.domain },
    signingKeys: [m.dkim.key, ...accounts.map((a) => a.dkim)].flatMap((k) =>
      k
        ? [{ at: `${k.keySelector}._domainkey.${k.domainName}`.toLowerCase(), privateKey: k.privateKey }]
        : [],
    ),
    publicUrl: m.publicUrl,
    postalAddress: m.postalAddress,
    mailboxes: config.inbox.mailboxes,
    probeDomains: config.validation.probeDomains,
    cacheMs: doctorCacheMs,
  };
}

/** The doctor the app and `npm run doctor` use: the configuration's settings over the real network (DNS_SERVERS). */
export function createDoctor(deps: CoreDeps, config: DoctorConfig): DoctorService {
  const v = config.validation;
  return new DoctorService(
    deps,
    doctorSettings(config),
    networkProbes({ servers: v.dnsServers, timeoutMs: v.timeoutMs }),
  );
}
