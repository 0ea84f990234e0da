import { createHmac, timingSafeEqual } from 'node:crypto';

/** Bytes of HMAC-SHA256 kept in a token: 144 bits, 24 base64url characters. */
const sigBytes = 18;
const tokenPattern = /^([1-9a-z][0-9a-z]{0,10})\.([A-Za-z0-9_-]{24})$/;

function sign(id: string, secret: string): Buffer {
  // the prefix keeps these signatures from being valid for any other use of the same secret
  return createHmac('sha256', secret).update(`unsubscribe:${id}`).digest().subarray(0, sigBytes);
}

/** A URL-safe token for one ledger row, `<id base36>.<HMAC-SHA256 base64url>`; nobody can forge another's. */
export function signUnsubscribeToken(sendId: number, secret: string): string {
  if (!Number.isSafeInteger(sendId) || sendId <= 0) throw new RangeError('sendId must be a positive integer');
  if (!secret) throw new RangeError('unsubscribe secret must not be empty');
  const id = sendId.toString(36);
  return `${id}.${sign(id, secret).toString('base64url')}`;
}

/** The ledger row id of a token signed with any of the secrets (current first, then retired), or null. */
export function verifyUnsubscribeToken(token: string, secret: string | readonly string[]): number | null {
  if (typeof token !== 'string' || token.length > 64) return null;
  const match = tokenPattern.exec(token);
  const id = match?.[1];
  const sig = match?.[2];
  if (!id || !sig) return null;
  const given = Buffer.from(sig, 'base64url');
  // 24 characters decode to 18 bytes; re-encoding rejects non-canonical spellings of the same bytes
  if (given.length !== sigBytes || given.toString('base64url') !== sig) return null;
  const secrets = (typeof secret === 'string' ? [secret] : secret).filter((s) => s.length > 0);
  // every key is tried, so the time taken does not say which one matched
  let ok = false;
  for (const s of secrets) if (timingSafeEqual(given, sign(id, s))) ok = true;
  if (!ok) return null;
  const sendId = Number.parseInt(id, 36);
  return Number.isSafeInteger(sendId) && sendId > 0 ? sendId : null;
}
