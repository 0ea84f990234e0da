import type { ImapMailbox } from '../../config-fields.js';

/** How a check came out: fail stops a campaign start (until an admin confirms), warn is shown. */
export const checkResults = ['pass', 'warn', 'fail'] as const;
export type CheckResult = (typeof checkResults)[number];

/** The checks of one From domain. */
export const domainCheckNames = ['spf', 'dkim', 'dmarc', 'mx'] as const;
/** The checks of the whole setup (not of one domain); `inbox` only when a mailbox is read. */
export const generalCheckNames = ['public_url', 'postal_address', 'inbox'] as const;
export type CheckName = (typeof domainCheckNames)[number] | (typeof generalCheckNames)[number];

/** One check in plain words: what was found (detail) and, unless it passed, what to do (fix). */
export type DoctorCheck = {
  name: CheckName;
  result: CheckResult;
  /** A short title: "SPF", "DKIM", "Unsubscribe page"… */
  title: string;
  detail: string;
  /** What to do; null when it passed. */
  fix: string | null;
};

/** A failing check, with the From domain it is about (null: a general check). */
export type BlockingCheck = DoctorCheck & { domain: string | null };

/** One From domain: who sends as it, through which relays, and its checks. */
export type DomainReport = {
  domain: string;
  /** The settings that send as this domain: `MAIL_FROM`, `SMTP_URLS entry 2 (host:port:user)`. */
  identities: string[];
  /** The SMTP relay hosts its messages leave through (empty: the outbox, nothing leaves). */
  relays: string[];
  checks: DoctorCheck[];
};

export type DoctorReport = {
  /** When the checks ran (ISO 8601); the report is kept a few minutes. */
  checkedAt: string;
  /** The worst result of every check (pass when there is none). */
  worst: CheckResult;
  domains: DomainReport[];
  general: DoctorCheck[];
};

/** One SMTP relay a domain's mail leaves through. */
export type Relay = {
  /** Where it is configured, for people: `SMTP_URL`, `SMTP_URLS entry 2 (host:587:user)`. */
  label: string;
  host: string;
  /** The login user name (often the mailbox address). */
  user: string;
  /** The DKIM selector (and domain) set for this relay (SMTP_URLS `#dkim=selector@domain`), when any. */
  dkim?: { selector: string; domain?: string | undefined } | undefined;
};

/** What the doctor checks, read from the configuration by the composition root. */
export type DoctorSettings = {
  /** MAIL_FROM: the campaigns' default sender. */
  from: string | undefined;
  /** SMTP_URL (one) or the SMTP_URLS identities; empty: the outbox. */
  relays: Relay[];
  /** Whether SMTP_URL or SMTP_URLS is set (real mail). */
  realMail: boolean;
  bounceAddress: string | undefined;
  unsubscribeMailto: string | undefined;
  dkim: { selector: string | undefined; domain: string | undefined };
  /** The private keys coldbatch signs with (DKIM_PRIVATE_KEY), by the name their public half must be published at. */
  signingKeys: { at: string; privateKey: string }[];
  publicUrl: string;
  postalAddress: string | undefined;
  /** Every mailbox the inbox reader reads (INBOX_URL, `#inbox=`). */
  mailboxes: ImapMailbox[];
  /** Domains known to have an MX (VALIDATION_PROBE_DOMAINS): none resolving means DNS is broken here, not your domain. */
  probeDomains: string[];
  /** How long a report is kept before run() checks again. */
  cacheMs: number;
};

/** A DNS lookup as node:dns `resolve(name, type)` answers: records, or an error with a `code` (ENOTFOUND, ENODATA, ETIMEOUT…). */
export type Resolve = (name: string, type: 'TXT' | 'MX' | 'A' | 'AAAA' | 'PTR' | 'CNAME') => Promise<unknown>;

/** The doctor's reach outside the process, injected so the checks stay testable. */
export type Probes = {
  resolve: Resolve;
  /** GET a URL: its status and content type, or why it could not be reached. */
  httpGet(
    url: string,
  ): Promise<{ ok: true; status: number; contentType: string } | { ok: false; error: string }>;
  /** Log in to a mailbox and out again: null when it worked, else why not. */
  imapLogin(mailbox: ImapMailbox): Promise<string | null>;
};

const rank: Record<CheckResult, number> = { pass: 0, warn: 1, fail: 2 };

/** The worst of some results (pass for none). */
export function worstOf(results: readonly CheckResult[]): CheckResult {
  return results.reduce<CheckResult>((w, r) => (rank[r] > rank[w] ? r : w), 'pass');
}
