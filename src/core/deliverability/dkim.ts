import { createPublicKey } from 'node:crypto';
import { type DkimKey, readDkimKey } from './mailauth.js';
import { commonSelectors, type Provider, providerOf } from './providers.js';
import type { SendingDomain } from './senders.js';
import type { DoctorCheck, DoctorSettings, Resolve } from './types.js';

type DkimInput = Pick<DoctorSettings, 'dkim' | 'signingKeys'>;

/** The domain DKIM signatures of this From domain carry: DKIM_DOMAIN, a relay's `#dkim=…@domain`, else the From domain. */
export const dkimDomainOf = (settings: Pick<DoctorSettings, 'dkim'>, target: SendingDomain) =>
  (
    settings.dkim.domain ??
    target.relays.find((r) => r.dkim?.domain)?.dkim?.domain ??
    target.domain
  ).toLowerCase();

type Place = { selector: string; domain: string };

/** Where to look for keys, and whether someone set them (a missing key then fails) or they are guesses. */
function placesFor(
  settings: DkimInput,
  target: SendingDomain,
): { places: Place[]; set: boolean; providers: Provider[] } {
  const fallback = dkimDomainOf(settings, target);
  const own = target.relays.flatMap((r) =>
    r.dkim ? [{ selector: r.dkim.selector, domain: (r.dkim.domain ?? fallback).toLowerCase() }] : [],
  );
  const found = [...new Set(target.relays.map((r) => providerOf(r.host)))].filter(
    (p): p is Provider => p !== undefined,
  );
  const global = settings.dkim.selector ? [{ selector: settings.dkim.selector, domain: fallback }] : [];
  const unique = (list: Place[]) =>
    list.filter((p, i) => list.findIndex((q) => q.selector === p.selector && q.domain === p.domain) === i);
  const set = unique([...global, ...own]);
  if (set.length > 0) return { places: set, set: true, providers: found };
  const documented = [...new Set(found.flatMap((p) => p.dkimSelectors))];
  const guesses = documented.length > 0 ? documented : commonSelectors;
  return {
    places: guesses.map((selector) => ({ selector, domain: fallback })),
    set: false,
    providers: found,
  };
}

/** Whether a published public key is the public half of a private key coldbatch signs with. */
function samePair(privateKey: string, publicKey: string): boolean {
  try {
    const ours = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    return ours.equals(createPublicKey(publicKey).export({ type: 'spki', format: 'der' }));
  } catch {
    return false;
  }
}

const keyWords = (key: Extract<DkimKey, { found: true }>) =>
  key.bits === null ? 'an Ed25519 key' : `a ${key.bits}-bit RSA key`;

/**
 * DKIM: the key of the selector (DKIM_SELECTOR, an identity's `#dkim=`, else the relay's
 * documented selectors) exists, parses and is long enough: < 1024 bits fails (receivers ignore
 * it), < 2048 warns.
 */
export async function checkDkim(
  resolve: Resolve,
  settings: DkimInput,
  target: SendingDomain,
): Promise<DoctorCheck> {
  const { places, set, providers } = placesFor(settings, target);
  const check = (result: DoctorCheck['result'], detail: string, fix: string | null): DoctorCheck => ({
    name: 'dkim',
    title: 'DKIM',
    result,
    detail,
    fix,
  });
  const how = providers.length > 0 ? providers.map((p) => `${p.name}: ${p.dkimHow}`).join('. ') : null;
  const keys: { at: string; key: DkimKey }[] = [];
  for (const { selector, domain } of places) {
    const at = `${selector}._domainkey.${domain}`;
    try {
      keys.push({ at, key: await readDkimKey(resolve, selector, domain) });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return check(
        'warn',
        `The DKIM key at ${at} could not be looked up: ${why}.`,
        'Check the DNS servers (DNS_SERVERS) answer, then run the doctor again.',
      );
    }
  }
  const tried = keys.map((k) => k.at).join(', ');
  const usable = keys.filter((k) => k.key.found);
  const broken = keys.filter((k) => !k.key.found && k.key.problem === 'unusable');
  if (set) {
    const bad = keys.find((k) => !k.key.found);
    if (bad && !bad.key.found) {
      const what =
        bad.key.problem === 'missing'
          ? `There is no DKIM key at ${bad.at} (the selector set in DKIM_SELECTOR or #dkim=)`
          : `The DKIM key at ${bad.at} cannot be used: ${bad.key.reason}`;
      return check(
        'fail',
        `${what}: messages signed with it fail DKIM, and DMARC then rests on SPF alone.`,
        `Publish the public key as a TXT record at ${bad.at} (v=DKIM1; k=rsa; p=<base64 key>), or correct the selector.${how ? ` ${how}.` : ''}`,
      );
    }
  }
  if (usable.length === 0) {
    if (broken.length > 0) {
      const b = broken[0]!;
      const reason = b.key.found ? '' : b.key.reason;
      return check(
        'fail',
        `The DKIM record at ${b.at} cannot be used: ${reason}.`,
        `Publish the key again as your provider shows it (v=DKIM1; k=rsa; p=<base64 key>).${how ? ` ${how}.` : ''}`,
      );
    }
    return check(
      'warn',
      `Cannot check DKIM: no key found (tried ${tried}). Without DKIM, Gmail and Yahoo refuse or junk bulk mail.`,
      `Turn on DKIM signing at your provider${how ? ` (${how})` : ''}, then set DKIM_SELECTOR to the selector it uses (the part before ._domainkey) so the doctor checks that key.`,
    );
  }
  const short = usable.filter((k) => k.key.found && k.key.bits !== null && k.key.bits < 1024);
  const medium = usable.filter((k) => k.key.found && k.key.bits !== null && k.key.bits < 2048);
  const found = usable.map((k) => (k.key.found ? `${keyWords(k.key)} at ${k.at}` : '')).join('; ');
  const guessed = set
    ? ''
    : ' (found by trying the usual selectors; set DKIM_SELECTOR to check the one you sign with)';
  if (short.length > 0)
    return check(
      'fail',
      `Found ${found}. Keys under 1024 bits are ignored by receivers.`,
      `Generate a 2048-bit key at your provider and publish it.${how ? ` ${how}.` : ''}`,
    );
  const signed = usable.flatMap((k) => {
    const own = settings.signingKeys.find((s) => s.at === k.at);
    return own && k.key.found ? [{ at: k.at, matches: samePair(own.privateKey, k.key.publicKey) }] : [];
  });
  const mismatch = signed.find((k) => !k.matches);
  if (mismatch)
    return check(
      'fail',
      `The key published at ${mismatch.at} is not the public half of DKIM_PRIVATE_KEY: every message coldbatch signs fails DKIM.`,
      `Publish the public half of DKIM_PRIVATE_KEY at ${mismatch.at} (openssl rsa -in dkim.pem -pubout prints it: its base64 goes after p=), or set the private key that belongs to the published one.`,
    );
  const head = `Found ${found}${guessed}.${signed.length > 0 ? ' It is the public half of DKIM_PRIVATE_KEY: coldbatch signatures verify.' : ''}`;
  if (medium.length > 0)
    return check(
      'warn',
      `${head} It works, but 2048 bits is the recommended length.`,
      `Rotate to a 2048-bit key when you can (publish it under a new selector, switch, then remove the old one).${how ? ` ${how}.` : ''}`,
    );
  return check('pass', head, null);
}
