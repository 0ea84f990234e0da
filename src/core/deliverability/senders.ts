import { domainToASCII } from 'node:url';
import { parseSender } from '../campaigns/sender.js';
import type { DoctorSettings, Relay } from './types.js';

/** One From domain to check: who sends as it, through which relays, with which envelope domain. */
export type SendingDomain = {
  domain: string;
  /** The From address (for DMARC and the MX check's words). */
  address: string;
  identities: string[];
  relays: Relay[];
  /** The envelope sender's domain (MAIL_BOUNCE_ADDRESS, else the From address): what SPF checks. */
  envelopeDomain: string;
};

/** The lower-case ASCII domain of an address, or null when it has none. */
export function domainOf(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const d = domainToASCII(
    address
      .slice(at + 1)
      .trim()
      .toLowerCase(),
  );
  return d ? d.replace(/\.$/, '') : null;
}

/**
 * The From domains of the sending identities: MAIL_FROM (sent through every relay: SMTP_URLS
 * rotate per message), and the login of each SMTP_URLS identity when it is an address on another
 * domain (Gmail and Microsoft 365 send as the account that logs in unless the From is one of its
 * aliases). Each domain once, with everything that sends as it.
 */
export function sendingDomains(settings: DoctorSettings): SendingDomain[] {
  const out = new Map<string, SendingDomain>();
  const bounceDomain = settings.bounceAddress ? domainOf(settings.bounceAddress) : null;
  const add = (address: string, identity: string, relays: Relay[]) => {
    const domain = domainOf(address);
    if (!domain) return;
    const known = out.get(domain);
    if (known) {
      known.identities.push(identity);
      for (const r of relays) if (!known.relays.includes(r)) known.relays.push(r);
      return;
    }
    out.set(domain, {
      domain,
      address,
      identities: [identity],
      relays: [...relays],
      envelopeDomain: bounceDomain ?? domain,
    });
  };
  const from = settings.from ? parseSender(settings.from) : null;
  if (from?.ok) add(from.mailbox.address, 'MAIL_FROM', settings.relays);
  for (const relay of settings.relays) {
    if (relay.user.includes('@') && relay.label !== 'SMTP_URL') add(relay.user, relay.label, [relay]);
  }
  return [...out.values()];
}
