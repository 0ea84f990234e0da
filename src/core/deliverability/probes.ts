import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ImapMailbox } from '../../config-fields.js';
import { imapClient } from '../../mail/imap/imap-client.js';
import { dnsResolve } from './resolver.js';
import type { Probes, Resolve } from './types.js';

/** Why something could not be reached, in a few words (no credentials: errors here never hold them). */
const reason = (e: unknown): string => {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
  const cause = typeof e === 'object' && e !== null && 'cause' in e ? e.cause : undefined;
  if (cause) return reason(cause);
  const text = e instanceof Error ? e.message : String(e);
  return code && !text.includes(code) ? `${code}: ${text}` : text;
};

/** Host names through our resolver (DNS_SERVERS) for node:http, A then AAAA; `localhost` as the system has it. */
function lookupVia(resolve: Resolve): LookupFunction {
  return (hostname, options, callback) => {
    if (hostname === 'localhost') {
      dnsLookup(hostname, options, callback);
      return;
    }
    const first = async (): Promise<{ address: string; family: number }[]> => {
      for (const [type, family] of [
        ['A', 4],
        ['AAAA', 6],
      ] as const) {
        const rows = await resolve(hostname, type).catch(() => []);
        if (Array.isArray(rows) && rows.length > 0) return rows.map((r) => ({ address: String(r), family }));
      }
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    };
    first().then(
      (list) => (options.all ? callback(null, list) : callback(null, list[0]!.address, list[0]!.family)),
      (e: NodeJS.ErrnoException) => callback(e, '', 4),
    );
  };
}

/** GET with a timeout, no redirects followed (a redirect is an answer too), host names through `lookup`. */
function httpGet(url: string, timeoutMs: number, lookup?: LookupFunction): ReturnType<Probes['httpGet']> {
  return new Promise((done) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(u, { method: 'GET', timeout: timeoutMs, ...(lookup ? { lookup } : {}) }, (res) => {
      res.resume();
      done({ ok: true, status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? '') });
      req.destroy();
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => done({ ok: false, error: reason(e) }));
    req.end();
  });
}

/** Connects to a mailbox, logs in and out (imapflow), within `timeoutMs`. */
async function imapLogin(m: ImapMailbox, timeoutMs: number): Promise<string | null> {
  const client = await imapClient(m, timeoutMs, { socketTimeout: timeoutMs });
  client.on('error', () => {}); // the connect() below reports it
  try {
    await client.connect();
    await client.logout();
    return null;
  } catch (e) {
    const authFailed =
      typeof e === 'object' && e !== null && 'authenticationFailed' in e && e.authenticationFailed === true;
    return authFailed ? 'the server refused the user name or password' : reason(e);
  } finally {
    client.close();
  }
}

/**
 * The real network: DNS through DNS_SERVERS (PUBLIC_URL's host too), HTTP and IMAP with a short
 * timeout. The IMAP login resolves its host as the inbox reader does (the system's resolver).
 */
export function networkProbes(
  dns: { servers: readonly string[]; timeoutMs: number },
  timeoutMs = 5000,
): Probes {
  const resolve = dnsResolve(dns.servers, dns.timeoutMs);
  const lookup = dns.servers.length > 0 ? lookupVia(resolve) : undefined;
  return {
    resolve,
    httpGet: (url) => httpGet(url, timeoutMs, lookup),
    imapLogin: (m) => imapLogin(m, timeoutMs),
  };
}
