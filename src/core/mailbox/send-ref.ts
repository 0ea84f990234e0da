import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Send refs: a short signed tag naming one ledger row (`sends.id`), carried by every message we
 * send, in its Message-ID (`<cb.<id>.<tag>@from-domain>`) and, with MAIL_BOUNCE_ADDRESS, in its
 * envelope sender (`bounces+cb.<id>.<tag>@domain`, VERP). A bounce, a complaint or a reply that
 * quotes either names its send, and nobody can forge one for another send. The key is the
 * unsubscribe links' (UnsubscribeKeys: the first signs, every key verifies).
 *
 * The tag is `cb.<sendId base36>.<10 characters>`: the first 50 bits of HMAC-SHA256 over
 * `send-ref:<sendId base36>` (the prefix keeps it from being any other signature made with the
 * same key), in lowercase base32. Lowercase only, so a server that lowercases an address or a
 * Message-ID does not break it, and it is read back case-insensitively.
 */

const tagChars = 10;
const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
/** A tag anywhere in a text: not inside a longer word, the id without leading zeros. */
const tagPattern = /(?<![0-9a-z])cb\.([1-9a-z][0-9a-z]{0,10})\.([a-z2-7]{10})(?![0-9a-z])/gi;
/** A hostile text could hold thousands of tags: at most this many are checked per call. */
const maxCandidates = 64;

function signature(id36: string, key: string): string {
  const mac = createHmac('sha256', key).update(`send-ref:${id36}`).digest();
  // 10 base32 characters = the first 50 bits of the MAC
  let bits = 0;
  let value = 0;
  let out = '';
  for (let i = 0; out.length < tagChars; ) {
    if (bits < 5) {
      value = ((value << 8) | (mac[i++] ?? 0)) & 0xffff;
      bits += 8;
    }
    bits -= 5;
    out += alphabet[(value >> bits) & 31];
  }
  return out;
}

function checkArgs(sendId: number, key: string): void {
  if (!Number.isSafeInteger(sendId) || sendId <= 0) throw new RangeError('sendId must be a positive integer');
  if (!key) throw new RangeError('the send ref key must not be empty');
}

/** `cb.<sendId base36>.<10-character HMAC tag>`: names one ledger row, signed with `key`. */
export function sendRefTag(sendId: number, key: string): string {
  checkArgs(sendId, key);
  const id36 = sendId.toString(36);
  return `cb.${id36}.${signature(id36, key)}`;
}

/** The Message-ID of a send: `<cb.…@domain>` (domain: the From address's). */
export function messageIdFor(sendId: number, domain: string, key: string): string {
  const d = domain.trim();
  if (!/^[^\s<>@"()\\,;:[\]]+$/.test(d)) throw new RangeError('messageIdFor needs a domain name');
  return `<${sendRefTag(sendId, key)}@${d}>`;
}

/**
 * The VERP envelope sender of a send: `bounces@example.com` becomes
 * `bounces+cb.<id>.<tag>@example.com`.
 */
export function verpAddress(bounceAddress: string, sendId: number, key: string): string {
  const at = bounceAddress.lastIndexOf('@');
  if (at <= 0 || at === bounceAddress.length - 1) throw new RangeError('verpAddress needs an e-mail address');
  return `${bounceAddress.slice(0, at)}+${sendRefTag(sendId, key)}${bounceAddress.slice(at)}`;
}

/**
 * The send named by the first tag in `texts` (addresses, Message-IDs, quoted headers, any text)
 * that was signed with one of `keys`, or null. Every key is compared in constant time, and every
 * key is tried, so the time taken says nothing about which one matched or how much of a tag did.
 */
export function findSendId(texts: readonly string[], keys: readonly string[]): number | null {
  const usable = keys.filter((k) => k.length > 0);
  if (usable.length === 0) return null;
  const seen = new Set<string>();
  for (const text of texts) {
    if (typeof text !== 'string' || !text) continue;
    for (const m of text.matchAll(tagPattern)) {
      const id36 = (m[1] ?? '').toLowerCase();
      const tag = (m[2] ?? '').toLowerCase();
      const candidate = `${id36}.${tag}`;
      if (seen.has(candidate)) continue;
      if (seen.size >= maxCandidates) return null;
      seen.add(candidate);
      const sendId = Number.parseInt(id36, 36);
      if (!Number.isSafeInteger(sendId) || sendId <= 0) continue;
      const given = Buffer.from(tag, 'latin1');
      let ok = false;
      for (const k of usable)
        if (timingSafeEqual(given, Buffer.from(signature(id36, k), 'latin1'))) ok = true;
      if (ok) return sendId;
    }
  }
  return null;
}
