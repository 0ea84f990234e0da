/**
 * SMTP relays whose settings are documented by their providers: the SPF include that covers their
 * outbound servers (their submission host is usually not itself among them) and the DKIM selectors
 * they publish keys under. Sources: each provider's own setup pages (Google Workspace "Set up SPF"
 * and "Set up DKIM"; Microsoft 365 "Set up SPF" and "Use DKIM"; Amazon SES, SendGrid, Mailgun,
 * Postmark and Brevo domain-authentication guides).
 */
export type Provider = {
  name: string;
  hosts: RegExp;
  /** The `include:` their SPF setup asks for. */
  spfInclude: string;
  /** Where they publish DKIM keys (empty: selectors the provider makes up per domain). */
  dkimSelectors: string[];
  /** Where to turn DKIM on, in words. */
  dkimHow: string;
};

export const providers: readonly Provider[] = [
  {
    name: 'Google Workspace',
    hosts: /(^|\.)(smtp|smtp-relay|aspmx\.l)\.gmail\.com$|(^|\.)google\.com$/,
    spfInclude: '_spf.google.com',
    dkimSelectors: ['google'],
    dkimHow:
      'Google Admin console → Apps → Google Workspace → Gmail → Authenticate email: generate a 2048-bit key, add the TXT record it shows at google._domainkey, then press Start authentication',
  },
  {
    name: 'Microsoft 365',
    hosts:
      /(^|\.)(smtp\.office365\.com|outlook\.office365\.com|smtp-mail\.outlook\.com)$|\.mail\.protection\.outlook\.com$/,
    spfInclude: 'spf.protection.outlook.com',
    dkimSelectors: ['selector1', 'selector2'],
    dkimHow:
      'Microsoft Defender portal → Email & collaboration → Policies & rules → Threat policies → Email authentication settings → DKIM: add the two CNAME records it shows (selector1._domainkey and selector2._domainkey), then enable signing',
  },
  {
    name: 'Amazon SES',
    hosts: /^email-smtp(-fips)?\.[a-z0-9-]+\.amazonaws\.com$/,
    spfInclude: 'amazonses.com',
    dkimSelectors: [],
    dkimHow:
      'the SES console → Identities → your domain → Authentication: publish the three CNAME records of Easy DKIM, and set DKIM_SELECTOR to one of their names (the part before ._domainkey)',
  },
  {
    name: 'SendGrid',
    hosts: /(^|\.)sendgrid\.net$/,
    spfInclude: 'sendgrid.net',
    dkimSelectors: ['s1', 's2'],
    dkimHow:
      'SendGrid → Settings → Sender Authentication → Authenticate your domain: add the CNAME records it shows',
  },
  {
    name: 'Mailgun',
    hosts: /(^|\.)mailgun\.org$/,
    spfInclude: 'mailgun.org',
    dkimSelectors: ['smtp', 'k1', 'mx', 'pic', 'krs', 'mailo'],
    dkimHow: 'Mailgun → Sending → Domains → your domain → DNS records: add the DKIM TXT record it shows',
  },
  {
    name: 'Postmark',
    hosts: /(^|\.)postmarkapp\.com$/,
    spfInclude: 'spf.mtasv.net',
    dkimSelectors: [],
    dkimHow:
      'Postmark → Sender Signatures → DNS settings: add the DKIM TXT record it shows, and set DKIM_SELECTOR to its name (like 20240101pm, the part before ._domainkey)',
  },
  {
    name: 'Brevo',
    hosts: /(^|\.)(brevo|sendinblue)\.com$/,
    spfInclude: 'spf.brevo.com',
    dkimSelectors: ['brevo1', 'brevo2', 'mail'],
    dkimHow: 'Brevo → Senders, Domains & Dedicated IPs → Domains → Authenticate: add the records it shows',
  },
];

/** Selectors many servers use, tried when no provider is known and DKIM_SELECTOR is unset. */
export const commonSelectors = ['default', 'dkim', 'mail', 's1', 'k1', 'selector1', 'google'];

/** The provider whose relay this host is, when it is a known one. */
export function providerOf(host: string): Provider | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  return providers.find((p) => p.hosts.test(h));
}
