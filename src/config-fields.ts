import { isIP } from 'node:net';
import { z } from 'zod';

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

/** One SMTP_URLS entry: the key names the account (host:port:user, never the password). */
export type SmtpAccount = { key: string; url: string; cap: number | null; warmup: number | null };

/**
 * SMTP_URLS: comma-separated smtp(s):// URLs, each with optional `#cap=500&warmup=50` (messages a
 * day; warm-up: the cap on day N of use is min(cap, warmup × N)). Messages name the entry by its
 * position, never its text (it holds a password).
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
        for (const [name, value] of params) {
          if (name !== 'cap' && name !== 'warmup') return bad(`unknown setting "${name}" (cap, warmup)`);
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
        out.push({ key, url: u.toString(), ...limits });
      }
      return out;
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
