import { Readable } from 'node:stream';
import { tooLarge } from '../core/imports/limits.js';
import { DomainError } from '../errors.js';

/**
 * Whether the bot token may be sent to this URL: only https://*.slack.com, or the exact
 * protocol, host and port of a configured SLACK_API_URL.
 */
export function tokenMayGoTo(url: string, apiUrl: string | undefined): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (
    u.protocol === 'https:' &&
    (u.hostname === 'slack.com' || u.hostname.endsWith('.slack.com')) &&
    !u.port
  ) {
    return true;
  }
  if (!apiUrl) return false;
  const api = new URL(apiUrl);
  return u.protocol === api.protocol && u.host === api.host;
}

/** Downloads a private Slack file as a byte stream, refusing other hosts, web pages and oversize bodies. */
export async function downloadSlackFile(
  url: string,
  opts: { token: string; apiUrl: string | undefined; maxBytes: number; timeoutMs?: number },
): Promise<Readable> {
  if (!tokenMayGoTo(url, opts.apiUrl)) {
    throw new DomainError(
      'download_failed',
      'The file link does not point to Slack, so it was not downloaded.',
    );
  }
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${opts.token}` },
    redirect: 'manual',
    signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
  });
  if (res.status >= 300 && res.status < 400) {
    throw new DomainError(
      'download_failed',
      'Slack redirected the download (usually to its sign-in page): the app may be missing the files:read scope.',
    );
  }
  if (!res.ok || !res.body) {
    throw new DomainError(
      'download_failed',
      `Slack answered ${res.status} to the download; try uploading again.`,
    );
  }
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) {
    throw new DomainError(
      'not_csv',
      'Slack sent a web page instead of the file: the app may be missing the files:read scope. Ask an admin to reinstall it.',
    );
  }
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > opts.maxBytes) {
    await res.body.cancel();
    throw tooLarge(opts.maxBytes);
  }
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}
