import { generateKeyPairSync } from 'node:crypto';
import { FakeDns, type Zone } from '../validation/fake-dns.js';

/** A new RSA key of `bits` (made here with node:crypto, never a fixture): its DKIM TXT record and private PEM. */
export function dkimPair(bits: number): { record: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    record: `v=DKIM1; k=rsa; p=${der.toString('base64')}`,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

const published = dkimPair(2048);
export const keys = {
  k2048: published.record,
  k1024: dkimPair(1024).record,
  k512: dkimPair(512).record,
  /** The private half of the key published at s1._domainkey.good.test. */
  private2048: published.privateKey,
  /** A key published nowhere. */
  otherPrivate: dkimPair(2048).privateKey,
};

/** The relay the tests send through: smtp.relay.test, at a public-looking address (TEST-NET-3). */
export const relayIp = '203.0.113.10';

/**
 * Test domains: good.test is set up as it should be; the others each get things wrong. A listed
 * name answers no records (NODATA) for the types it lacks.
 */
export const zones: Record<string, Zone> = {
  // a domain known to have an MX (VALIDATION_PROBE_DOMAINS' first): DNS works
  'gmail.com': { mx: ['gmail-smtp-in.l.google.com'] },
  'smtp.relay.test': { a: [relayIp] },
  'smtp.elsewhere.test': { a: ['198.51.100.77'] },
  // good.test: SPF authorises the relay's address, 2048-bit DKIM, DMARC quarantine, an MX
  'good.test': {
    mx: ['mx.good.test'],
    txt: ['v=spf1 ip4:203.0.113.0/24 -all', 'google-site-verification=x'],
  },
  'mx.good.test': { a: ['203.0.113.25'] },
  's1._domainkey.good.test': { txt: [keys.k2048] },
  'short._domainkey.good.test': { txt: [keys.k1024] },
  'tiny._domainkey.good.test': { txt: [keys.k512] },
  'broken._domainkey.good.test': { txt: ['v=DKIM1; k=rsa; p=not*base64'] },
  '_dmarc.good.test': { txt: ['v=DMARC1; p=quarantine; rua=mailto:dmarc@good.test'] },
  // bad.test: no SPF, no DKIM, no DMARC, no MX (only a web address)
  'bad.test': { a: ['203.0.113.80'] },
  // open.test: +all, p=none, DMARC without p=, null MX
  'open.test': { mx: ['.'], txt: ['v=spf1 +all'] },
  '_dmarc.open.test': { txt: ['v=DMARC1; p=none'] },
  // nop.test: DMARC with no policy; SPF with an unknown mechanism
  'nop.test': { mx: ['mx.good.test'], txt: ['v=spf1 ip4:203.0.113.0/24 foo:bar -all'] },
  '_dmarc.nop.test': { txt: ['v=DMARC1; rua=mailto:x@nop.test'] },
  // chain.test: eleven includes, one lookup each
  'chain.test': {
    mx: ['mx.good.test'],
    txt: [`v=spf1 ${Array.from({ length: 11 }, (_, i) => `include:i${i}.chain.test`).join(' ')} -all`],
  },
  ...Object.fromEntries(
    Array.from({ length: 11 }, (_, i) => [
      `i${i}.chain.test`,
      { txt: [`v=spf1 ip4:192.0.2.${200 + i} -all`] },
    ]),
  ),
  // gw.test: Google Workspace set up: include:_spf.google.com, the google selector, p=reject
  'gw.test': { mx: ['smtp.google.com'], txt: ['v=spf1 include:_spf.google.com ~all'] },
  'google._domainkey.gw.test': { txt: [keys.k2048] },
  '_dmarc.gw.test': { txt: ['v=DMARC1; p=reject'] },
  '_spf.google.com': { txt: ['v=spf1 ip4:64.233.160.0/19 ~all'] },
  // nogw.test: sends through Gmail but its SPF forgot Google
  'nogw.test': { mx: ['smtp.google.com'], txt: ['v=spf1 ip4:203.0.113.0/24 -all'] },
  '_dmarc.nogw.test': { txt: ['v=DMARC1; p=reject'] },
  // unsub.test: where PUBLIC_URL's host resolves to (loopback: the test's own HTTP server)
  'unsub.test': { a: ['127.0.0.1'] },
  // nomx.test: no MX and no address
  'nomx.test': { txt: ['v=spf1 -all'] },
  // slow.test: never answers
  'slow.test': { silent: true },
  // other.test: where a bounce address elsewhere lives (SPF fine, DMARC of its own)
  'other.test': { mx: ['mx.good.test'], txt: ['v=spf1 ip4:203.0.113.0/24 -all'] },
  's1._domainkey.other.test': { txt: [keys.k2048] },
};

/** A DNS server on loopback answering the zones above (and `extra`); NXDOMAIN for any other name. */
export function startZoneDns(extra: Record<string, Zone> = {}): Promise<FakeDns> {
  const all: Record<string, Zone> = { ...zones, ...extra };
  return new FakeDns((name) => all[name]).start();
}
