/**
 * Webhook URLs may carry credentials (`https://user:pass@crm.example/hook`): fetch refuses such
 * URLs, and they must never be shown. They are sent as a Basic Authorization header to the URL
 * without them, and stored, listed and logged without them.
 */

/** A webhook target: the URL without credentials, and the Authorization header they make (null: none). */
export type WebhookTarget = { url: string; authorization: string | null };

const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i;

/** Splits the credentials off a URL (an unparsable one loses everything up to an `@` after the scheme). */
export function webhookTarget(raw: string): WebhookTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { url: raw.replace(userinfo, '$1'), authorization: null };
  }
  if (!u.username && !u.password) return { url: u.toString(), authorization: null };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return {
    url: u.toString(),
    authorization: `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`,
  };
}

/** The URL as people may see it: never with credentials. */
export const publicWebhookUrl = (raw: string): string => webhookTarget(raw).url;

/** Text (an error) with any URL credentials and the given secrets replaced by `***`. */
export function scrubCredentials(text: string, secrets: string[]): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, '$1***@');
  for (const s of secrets) if (s.length >= 3) out = out.replaceAll(s, '***');
  return out;
}

/** The user name and password of a URL, raw and decoded (what an error message might quote). */
export function credentialsOf(raw: string): string[] {
  try {
    const u = new URL(raw);
    return [u.username, u.password, decodeURIComponent(u.username), decodeURIComponent(u.password)].filter(
      Boolean,
    );
  } catch {
    return [];
  }
}
