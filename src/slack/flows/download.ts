import { Readable } from 'node:stream';
import { tooLarge } from '../../core/imports/limits.js';
import { DomainError } from '../../errors.js';

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

/**
 * Downloads a private Slack file as a byte stream, refusing other hosts, web pages and oversize
 * bodies. `timeoutMs` bounds the wait for Slack's answer (headers) only: the body is read as the
 * import goes, and a body that stalls is the import's idle limit to refuse. Errors of the body are
 * always handled: the reader sees them, and none can end the process while nobody reads.
 */
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
  const answered = new AbortController();
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const timer = setTimeout(() => answered.abort(), timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${opts.token}` },
      redirect: 'manual',
      signal: answered.signal,
    });
  } catch (e) {
    if (!answered.signal.aborted) throw e;
    throw new DomainError(
      'download_failed',
      `Slack did not answer the download within ${Math.round(timeoutMs / 1000)} s; try uploading again.`,
    );
  } finally {
    clearTimeout(timer);
  }
  const refuse = async (e: DomainError) => {
    await res.body?.cancel().catch(() => {});
    return e;
  };
  if (res.status >= 300 && res.status < 400) {
    throw await refuse(
      new DomainError(
        'download_failed',
        'Slack redirected the download (usually to its sign-in page): the app may be missing the files:read scope.',
      ),
    );
  }
  if (!res.ok || !res.body) {
    throw await refuse(
      new DomainError(
        'download_failed',
        `Slack answered ${res.status} to the download; try uploading again.`,
      ),
    );
  }
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) {
    throw await refuse(
      new DomainError(
        'not_csv',
        'Slack sent a web page instead of the file: the app may be missing the files:read scope. Ask an admin to reinstall it.',
      ),
    );
  }
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > opts.maxBytes) throw await refuse(tooLarge(opts.maxBytes));
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  // The import reads (and sees the errors of) the body; until it does, an error must not be unhandled.
  body.on('error', () => {});
  return body;
}
