import type { DNSResolver } from 'mailauth';
import { dmarc } from 'mailauth/lib/dmarc/index.js';
import { spf } from 'mailauth/lib/spf/index.js';
import tools from 'mailauth/lib/tools.js';
import { z } from 'zod';
import type { Resolve } from './types.js';

/*
 * mailauth (by nodemailer's author) evaluates SPF, reads DKIM keys and DMARC records: every
 * lookup goes through our resolver (DNS_SERVERS). What it returns is read with zod, as any edge.
 */

/** mailauth calls the resolver like node:dns `resolve` (MX answers are objects, which its types leave out). */
const asMailauth = (resolve: Resolve): DNSResolver =>
  ((name: string, type: string) => resolve(name, type as Parameters<Resolve>[1])) as DNSResolver;

const spfAnswer = z.object({
  status: z.object({ result: z.string(), comment: z.string().optional() }),
  rr: z.string().optional(),
  lookups: z.object({ count: z.number(), limit: z.number() }).optional(),
});
export type SpfAnswer = {
  /** pass, fail, softfail, neutral, none, permerror, temperror. */
  result: string;
  /** Why (mailauth's words, after the host name it starts with). */
  reason: string;
  record: string | null;
  lookups: number | null;
};

/** SPF of `domain` for a message from `ip` (mailauth's evaluation, RFC 7208, at most 10 lookups). */
export async function evaluateSpf(resolve: Resolve, domain: string, ip: string): Promise<SpfAnswer> {
  const raw = await spf({
    sender: `postmaster@${domain}`,
    ip,
    helo: domain,
    mta: 'coldbatch-doctor',
    resolver: asMailauth(resolve),
  });
  const r = spfAnswer.parse(raw);
  return {
    result: r.status.result,
    reason: (r.status.comment ?? '').replace(/^coldbatch-doctor:\s*/, ''),
    record: r.rr ?? null,
    lookups: r.lookups?.count ?? null,
  };
}

const dmarcAnswer = z.object({
  status: z.object({ result: z.string() }),
  domain: z.string().optional(),
  p: z.string().optional(),
  sp: z.string().optional(),
  rr: z.string().optional(),
  error: z.string().optional(),
  alignment: z
    .object({
      spf: z.object({ result: z.union([z.string(), z.literal(false)]).optional(), strict: z.boolean() }),
      dkim: z.object({ result: z.union([z.string(), z.literal(false)]).optional(), strict: z.boolean() }),
    })
    .optional(),
});
export type DmarcAnswer = {
  /** none (no record), temperror (DNS failed), pass/fail (the alignment of the domains given). */
  result: string;
  record: string | null;
  /** Where the record was found: the From domain or its organisational domain. */
  domain: string | null;
  policy: string | null;
  error: string | null;
  /** Whether the SPF (envelope) and DKIM domains given align with the From domain, and how strictly. */
  spfAligned: boolean;
  dkimAligned: boolean;
  strict: { spf: boolean; dkim: boolean };
};

/** The DMARC record of a From address's domain (or its organisational domain) and the alignment of the given domains. */
export async function evaluateDmarc(
  resolve: Resolve,
  from: string,
  spfDomain: string,
  dkimDomain: string,
): Promise<DmarcAnswer> {
  const raw = await dmarc({
    headerFrom: from,
    spfDomains: [spfDomain],
    dkimDomains: [{ domain: dkimDomain }],
    resolver: asMailauth(resolve),
  });
  const r = dmarcAnswer.parse(raw);
  return {
    result: r.status.result,
    record: r.rr ?? null,
    domain: r.domain ?? null,
    policy: r.p ? r.p.toLowerCase() : null,
    error: r.error ?? null,
    spfAligned: Boolean(r.alignment?.spf.result),
    dkimAligned: Boolean(r.alignment?.dkim.result),
    strict: { spf: r.alignment?.spf.strict ?? false, dkim: r.alignment?.dkim.strict ?? false },
  };
}

const keyAnswer = z.object({ rr: z.string(), modulusLength: z.number().optional(), publicKey: z.string() });
export type DkimKey =
  | { found: true; record: string; bits: number | null; publicKey: string }
  | { found: false; problem: 'missing' | 'unusable'; reason: string };

/** The DKIM key at `<selector>._domainkey.<domain>`, read and parsed by mailauth (any size: the caller judges it). */
export async function readDkimKey(resolve: Resolve, selector: string, domain: string): Promise<DkimKey> {
  try {
    const raw = await tools.getPublicKey('DKIM', `${selector}._domainkey.${domain}`, 1, asMailauth(resolve));
    const r = keyAnswer.parse(raw);
    // mailauth gives RSA keys their modulus length; an Ed25519 key has none.
    return { found: true, record: r.rr, bits: r.modulusLength ?? null, publicKey: r.publicKey };
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
    if (code === 'ENOTFOUND' || code === 'ENODATA')
      return { found: false, problem: 'missing', reason: 'no record' };
    if (code === 'EINVALIDVAL' && !(typeof e === 'object' && e !== null && 'rr' in e))
      return { found: false, problem: 'missing', reason: 'no record' };
    const why: Record<string, string> = {
      EINVALIDVAL: 'its key (p=) is empty (a revoked key) or not base64',
      EINVALIDVER: 'its v= is not DKIM1',
      EINVALIDTYPE: 'it is not an RSA or Ed25519 public key',
    };
    const reason = why[code];
    if (reason) return { found: false, problem: 'unusable', reason };
    throw e;
  }
}
