import { z } from 'zod';

/** One sender mailbox: an address, optionally with a display name. */
export type Mailbox = { name: string | null; address: string };

const address = z.email();
/** Characters an unquoted display name may not hold (RFC 5322 specials but the dot). */
const specials = /[,;:<>@"()[\]\\]/;
const quoted = /^"((?:[^"\\]|\\.)*)"$/;
const example = 'use sales@acme.com or "Sales <sales@acme.com>"';

/**
 * Reads a campaign's `from` as exactly one mailbox, or says what is wrong with it. Several
 * addresses (`a@x.com, b@x.com <s@y.com>` makes a mail server take `a@x.com` as the sender) and
 * line breaks (header injection) are refused.
 */
export function parseSender(from: string): { ok: true; mailbox: Mailbox } | { ok: false; problem: string } {
  if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(from)) {
    return { ok: false, problem: `has a line break or control character: ${example}` };
  }
  const s = from.trim();
  const angle = /^(.*?)\s*<([^<>]*)>$/.exec(s);
  const addr = (angle ? angle[2] : s)?.trim() ?? '';
  const name = angle ? (angle[1] ?? '').trim() : '';
  const several = () => ({
    ok: false as const,
    problem:
      `is more than one address: give one sender, ${example}` +
      ' (to put a comma in the name, quote the name: "Silva, Ana" <ana@acme.com>)',
  });
  if (!address.safeParse(addr).success) {
    return /[,;]|@.*@/.test(s) ? several() : { ok: false, problem: `is not an address: ${example}` };
  }
  if (name === '') return { ok: true, mailbox: { name: null, address: addr } };
  const q = quoted.exec(name);
  if (q) return { ok: true, mailbox: { name: (q[1] ?? '').replace(/\\(.)/g, '$1'), address: addr } };
  if (specials.test(name)) return several();
  return { ok: true, mailbox: { name, address: addr } };
}

/** The bare address of `Name <a@b.c>` or `a@b.c`. */
export function addressOf(from: string | undefined): string | undefined {
  if (!from) return undefined;
  const m = /<([^<>]+)>\s*$/.exec(from);
  return (m?.[1] ?? from).trim();
}
