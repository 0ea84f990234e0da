import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import DKIM from 'nodemailer/lib/dkim';

/** One DKIM signing key: the signing domain (d=), the selector (s=) and the RSA private key (PEM). */
export type DkimKey = { domainName: string; keySelector: string; privateKey: string };

/** An SMTP_URLS entry's `dkim=selector` or `dkim=selector@domain`. */
export type DkimSetting = { selector: string; domain?: string };

/** Reads DKIM_PRIVATE_KEY: the PEM text (`\n` written as such allowed) or the path of a PEM file. Never quotes the key. */
export function readDkimKey(value: string): { ok: true; pem: string } | { ok: false; problem: string } {
  const no = (problem: string) => ({ ok: false as const, problem });
  const text = value.trim();
  let pem = text.replace(/\\n/g, '\n');
  if (!text.startsWith('-----BEGIN')) {
    try {
      pem = readFileSync(text, 'utf8');
    } catch (e) {
      const code = e instanceof Error && 'code' in e ? String(e.code) : 'unreadable';
      return no(
        `is neither PEM text (-----BEGIN PRIVATE KEY-----…) nor a readable file (${code}): give the path of the key file or the key itself`,
      );
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return no(
      'is not a usable private key: it must be an unencrypted PEM private key (openssl genrsa -out dkim.pem 2048)',
    );
  }
  if (key.asymmetricKeyType !== 'rsa')
    return no(
      `is an ${key.asymmetricKeyType ?? 'unknown'} key: signing needs an RSA key (openssl genrsa 2048)`,
    );
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 1024) return no(`is a ${bits}-bit key: receivers ignore DKIM keys under 1024 bits (use 2048)`);
  return { ok: true, pem: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * The DKIM key of each transport when coldbatch signs (DKIM_PRIVATE_KEY set): the single one
 * (SMTP_URL) from DKIM_SELECTOR and DKIM_DOMAIN, and each SMTP_URLS account's (`dkim`), its own
 * `dkim=` selector (and domain) over them. With the key, every transport must sign: a missing
 * part is a problem, in words (a string), never a transport that sends unsigned. Without it, a
 * selector only tells the domain doctor which key the relay signs with.
 */
export function dkimKeys<A extends { dkimSetting?: DkimSetting }>(
  global: { pem: string | undefined; selector: string | undefined; domain: string | undefined },
  accounts: A[],
): { single: DkimKey | null; accounts: (A & { dkim?: DkimKey })[] } | string {
  const { pem, selector, domain } = global;
  if (!pem) return { single: null, accounts };
  const key = (s: string | undefined, d: string | undefined): DkimKey | null =>
    s && d ? { domainName: d, keySelector: s, privateKey: pem } : null;
  const single = key(selector, domain);
  if (accounts.length === 0 && !single) {
    const missing = [selector ? '' : 'DKIM_SELECTOR', domain ? '' : 'DKIM_DOMAIN'].filter(Boolean);
    return `DKIM_PRIVATE_KEY needs ${missing.join(' and ')} set too (the key is published at <selector>._domainkey.<domain>)`;
  }
  const out: (A & { dkim?: DkimKey })[] = [];
  for (const [i, a] of accounts.entries()) {
    const dkim = key(a.dkimSetting?.selector ?? selector, a.dkimSetting?.domain ?? domain);
    if (!dkim)
      return `SMTP_URLS entry ${i + 1} would send unsigned: set DKIM_SELECTOR and DKIM_DOMAIN, or give it dkim=selector@domain`;
    out.push({ ...a, dkim });
  }
  return { single, accounts: out };
}

/** A message could not be signed: it is not sent. */
export class DkimSignError extends Error {
  override readonly name = 'DkimSignError';
}

/**
 * Signs a whole message (its header block and body, CRLF lines) with nodemailer's DKIM signer
 * and checks the signature is there: nodemailer leaves a message unsigned, silently, when the key
 * cannot sign, and an unsigned message must never go out.
 */
export async function signMessage(raw: Buffer, key: DkimKey): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of new DKIM({ ...key }).sign(raw)) chunks.push(Buffer.from(chunk));
  } catch (e) {
    throw new DkimSignError(e instanceof Error ? e.message : String(e));
  }
  const signed = Buffer.concat(chunks);
  if (!/^dkim-signature:/i.test(signed.subarray(0, 20).toString('latin1')))
    throw new DkimSignError(`the key for ${key.keySelector}._domainkey.${key.domainName} made no signature`);
  return signed;
}
