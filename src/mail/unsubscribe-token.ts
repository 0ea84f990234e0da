import { createHmac, timingSafeEqual } from 'node:crypto';

const sigBytes = 18;

function sign(id: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`unsubscribe:${id}`).digest().subarray(0, sigBytes);
}

/** A URL-safe token for one ledger row: `<id base36>.<HMAC-SHA256, base64url>`; nobody can forge another's. */
export function signUnsubscribeToken(sendId: number, secret: string): string {
  const id = sendId.toString(36);
  return `${id}.${sign(id, secret).toString('base64url')}`;
}

/** The ledger row id of a token we signed (with any of the keys, current first), or null. */
export function verifyUnsubscribeToken(token: string, secret: string | string[]): number | null {
  if (typeof token !== 'string' || token.length > 100) return null;
  const m = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{24})$/.exec(token);
  if (!m) return null;
  const given = Buffer.from(m[2]!, 'base64url');
  if (given.length !== sigBytes) return null;
  for (const s of Array.isArray(secret) ? secret : [secret]) {
    if (timingSafeEqual(given, sign(m[1]!, s))) {
      const id = Number.parseInt(m[1]!, 36);
      return Number.isSafeInteger(id) && id > 0 ? id : null;
    }
  }
  return null;
}
