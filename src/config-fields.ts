import { isIP } from 'node:net';
import { z } from 'zod';
import { type DkimKey, type DkimSetting, readDkimKey } from './mail/dkim.js';
import { type Gap, parseGap } from './mail/pacing.js';

/* The shapes of environment values (sizes, durations, lists, flags, SMTP_URLS), checked by src/config.ts's schema. */

/** A size: bytes, or a number with a unit (KB/KiB/K = 1024, MB/MiB/M, GB/GiB/G; any case). */
export const bytes = z
  .string()
  .trim()
  .regex(
    /^\d+(\.\d+)?\s*(b|[kmg]i?b?)?$/i,
    'must be a size like 52428800, 50MB, 50MiB or 512kb (units B, KB/KiB, MB/MiB, GB/GiB)',
  )
  .transform((s) => {
    const m = /^(\d+(?:\.\d+)?)\s*(b|[kmg]i?b?)?$/i.exec(s)!;
    const unit = (m[2] ?? 'b').toLowerCase()[0] ?? 'b';
    const mult = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1;
    return Math.floor(Number(m[1]) * mult);
  })
  .pipe(z.number().int().positive());

export const duration = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h|d)?$/, 'must be a duration like 90s, 30m, 1h or 86400000 (ms)')
  .transform((v) => {
    const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v)!;
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms'] ?? 1;
    return Number(m[1]) * unit;
  });

export const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/**
 * One SMTP_URLS entry: the key names the account (host:port:user, never the password); `inbox` is
 * the mailbox its replies and bounces reach (`#inbox=`), when it names one.
 */
export type SmtpAccount = {
  key: string;
  url: string;
  cap: number | null;
  warmup: number | null;
  inbox?: ImapMailbox;
  /** `dkim=selector` or `dkim=selector@domain` as written; `dkim` is the key loadConfig makes of it and DKIM_*. */
  dkimSetting?: DkimSetting;
  dkim?: DkimKey;
  /** `gap=`, else SEND_GAP (loadConfig); absent or null (`gap=0`): no wait between its messages. */
  gap?: Gap | null;
};

/** One IMAP mailbox the inbox reader watches (INBOX_URL, or an SMTP_URLS entry's `#inbox=`). */
export type ImapMailbox = {
  /** The URL without its password (`imaps://bounces%40example.com@imap.example.com:993/INBOX`): its name everywhere. */
  name: string;
  host: string;
  port: number;
  /** imaps://: TLS from the start; imap://: STARTTLS required, or plain text on loopback only. */
  security: 'tls' | 'starttls' | 'none';
  user: string;
  pass: string;
  /** The mailbox (folder) read: the URL's path, INBOX when it has none. */
  path: string;
};

const imapExample = 'imaps://user:pass@imap.example.com:993/INBOX';
const loopbackHost = /^(localhost|127(\.\d{1,3}){3}|::1)$/i;

/** Reads an IMAP URL (INBOX_URL, `#inbox=`); the problem, when any, never quotes the password. */
export function parseImapUrl(
  text: string,
): { ok: true; mailbox: ImapMailbox } | { ok: false; problem: string } {
  const no = (problem: string) => ({ ok: false as const, problem });
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return no(`must be an IMAP URL like ${imapExample} (a user name with @ is written %40)`);
  }
  if (u.protocol !== 'imaps:' && u.protocol !== 'imap:')
    return no(`must start with imaps:// (or imap:// for a server on this machine): ${imapExample}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (!host) return no(`has no host: ${imapExample}`);
  if (u.port === '0') return no('has port 0');
  if (!u.username || !u.password) return no(`needs a user name and a password: ${imapExample}`);
  if (u.search || u.hash) return no('takes no ?query or #fragment');
  let user: string;
  let pass: string;
  let path: string;
  try {
    user = decodeURIComponent(u.username);
    pass = decodeURIComponent(u.password);
    path = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'INBOX';
  } catch {
    return no('has a broken %-escape (write @ as %40, : as %3A, / as %2F in the user name and password)');
  }
  const tls = u.protocol === 'imaps:';
  const port = u.port ? Number(u.port) : tls ? 993 : 143;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const shownPath = path.split('/').map(encodeURIComponent).join('/');
  const name = `${u.protocol}//${encodeURIComponent(user)}@${shownHost}:${port}/${shownPath}`;
  const security = tls ? 'tls' : loopbackHost.test(host) ? 'none' : 'starttls';
  return { ok: true, mailbox: { name, host, port, security, user, pass, path } };
}

/** INBOX_URL: one IMAP URL, or unset. */
export const imapUrl = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .optional()
    .transform((text, ctx): ImapMailbox | undefined => {
      if (text === undefined) return undefined;
      const r = parseImapUrl(text);
      if (r.ok) return r.mailbox;
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    }),
);

/**
 * Every distinct mailbox to read: INBOX_URL first, then each identity's `#inbox=`, once each by
 * name; the same mailbox given twice with different passwords is a problem (returned as text).
 */
export function distinctMailboxes(
  inbox: ImapMailbox | undefined,
  accounts: SmtpAccount[],
): ImapMailbox[] | string {
  const named = [
    ...(inbox ? [{ where: 'INBOX_URL', mailbox: inbox }] : []),
    ...accounts.flatMap((a, i) => (a.inbox ? [{ where: `SMTP_URLS entry ${i + 1}`, mailbox: a.inbox }] : [])),
  ];
  const out = new Map<string, { where: string; mailbox: ImapMailbox }>();
  for (const n of named) {
    const first = out.get(n.mailbox.name);
    if (!first) out.set(n.mailbox.name, n);
    else if (first.mailbox.pass !== n.mailbox.pass)
      return `${first.where} and ${n.where} name the same mailbox (${n.mailbox.name}) with different passwords`;
  }
  return [...out.values()].map((n) => n.mailbox);
}

/**
 * SMTP_URLS: comma-separated smtp(s):// URLs, each with optional `#cap=500&warmup=50` (messages a
 * day; warm-up: the cap on day N of use is min(cap, warmup × N)) and `&inbox=<url-encoded imap
 * URL>` (the identity's own mailbox), `&gap=60s-120s` (its SEND_GAP) and `&dkim=selector[@domain]`
 * (its DKIM selector). Messages name the entry by its position, never its text (it holds a password).
 */
export const smtpUrls = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .optional()
    .transform((text, ctx): SmtpAccount[] => {
      if (text === undefined) return [];
      const out: SmtpAccount[] = [];
      const entries = text
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
      for (const [i, entry] of entries.entries()) {
        const bad = (why: string) => {
          ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: ${why}` });
          return z.NEVER;
        };
        let u: URL;
        try {
          u = new URL(entry);
        } catch {
          return bad('is not a URL (smtp://user:pass@host:587#cap=500&warmup=50)');
        }
        if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:')
          return bad('must start with smtp:// or smtps://');
        if (!u.hostname) return bad('has no host');
        const params = new URLSearchParams(u.hash.slice(1));
        const limits: { cap: number | null; warmup: number | null } = { cap: null, warmup: null };
        let inbox: ImapMailbox | undefined;
        const own: { dkimSetting?: DkimSetting; gap?: Gap | null } = {};
        for (const [name, value] of params) {
          if (name === 'gap') {
            const r = parseGap(value);
            if (!r.ok) return bad(`gap ${r.problem}`);
            own.gap = r.gap;
            continue;
          }
          if (name === 'dkim') {
            const [selector = '', domain, more] = value.toLowerCase().split('@');
            if (
              more !== undefined ||
              !dkimSelector.test(selector) ||
              (domain !== undefined && !dnsName.test(domain))
            )
              return bad('dkim must be a selector, or selector@domain (dkim=s1 or dkim=s1@example.com)');
            own.dkimSetting = domain ? { selector, domain } : { selector };
            continue;
          }
          if (name === 'inbox') {
            const r = parseImapUrl(value);
            if (!r.ok) return bad(`inbox ${r.problem} (url-encoded after #inbox=)`);
            inbox = r.mailbox;
            continue;
          }
          if (name !== 'cap' && name !== 'warmup')
            return bad(`unknown setting "${name}" (cap, warmup, inbox, gap, dkim)`);
          const n = Number(value);
          if (!Number.isInteger(n) || n < 1 || n > 10_000_000)
            return bad(`${name} must be a whole number ≥ 1`);
          limits[name] = n;
        }
        u.hash = '';
        const port = u.port || (u.protocol === 'smtps:' ? '465' : '587');
        const user = decodeURIComponent(u.username);
        const key = user ? `${u.hostname}:${port}:${user}` : `${u.hostname}:${port}`;
        if (out.some((a) => a.key === key)) return bad(`the same account (${key}) twice`);
        out.push({ key, url: u.toString(), ...limits, ...(inbox ? { inbox } : {}), ...own });
      }
      return out;
    }),
);

/** A DKIM selector: DNS labels (`s1`, `google`, `k1.mail`). */
export const dkimSelector =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** A domain name with at least two labels. */
export const dnsName =
  /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

/** DKIM_PRIVATE_KEY: PEM text or a file path, read and checked at start (an RSA key of 1024+ bits); the PEM. */
export const dkimPrivateKey = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .optional()
    .transform((text, ctx): string | undefined => {
      if (text === undefined) return undefined;
      const r = readDkimKey(text);
      if (r.ok) return r.pem;
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    }),
);

/** DKIM_SELECTOR, DKIM_DOMAIN. */
export const dkimName = (what: RegExp, example: string) =>
  z.preprocess(
    emptyAsUndefined,
    z.string().trim().toLowerCase().regex(what, `must be ${example}`).optional(),
  );

/** SEND_GAP: `0` (off), `90s`, `60s-120s`; undefined when off. */
export const sendGap = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default('0')
    .transform((text, ctx): Gap | undefined => {
      const r = parseGap(text);
      if (r.ok) return r.gap ?? undefined;
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    }),
);

/** A comma-separated list (spaces around items ignored, empty items dropped), each item checked. */
export const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

/** Comma-separated Slack ids (users U…/W…, channels C…/G…). */
export const idList = commaList(
  z.string().regex(/^[A-Z0-9]{2,}$/, 'must be comma-separated Slack ids like U0123ABCD'),
);

/** `true`/`false` (also 1/0, yes/no, on/off). */
export const flag = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(true|false|1|0|yes|no|on|off)$/, 'must be true or false')
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** A DNS server as node:dns setServers takes it: an IP address, optionally with a port (`[::1]:53`). */
export const dnsServer = z.string().refine((s) => {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  const [host, port] = m ? [m[1] ?? '', m[2]] : [s, undefined];
  return isIP(host) !== 0 && (port === undefined || (Number(port) > 0 && Number(port) < 65536));
}, 'must be comma-separated IP addresses, each optionally with a port (1.1.1.1, 127.0.0.1:5353, [::1]:53)');
