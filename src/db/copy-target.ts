/**
 * The Postgres side of `npm run db:copy` before anything is written: the URL checked and shown
 * without its password, and the server reached once with a short timeout, so an unreachable
 * server, a refused login or a missing database is said in plain words.
 */
import pg from 'pg';
import { CopyRefusal } from './copy-source.js';

/** Whether the text is a Postgres URL (the same rule as DATABASE_URL). */
export function isPostgresUrl(url: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(url)) return false;
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

/** The URL as it may be printed: `postgres://host:port/db`, without user and password. */
export function describePgUrl(url: string): string {
  const u = new URL(url);
  return `postgres://${u.host}${u.pathname}`;
}

type PgError = Error & { code?: string };

/** What a failed connection means, for the person who typed the URL. */
function reachProblem(e: PgError, url: string): string {
  const u = new URL(url);
  const where = describePgUrl(url);
  const host = u.hostname;
  const database =
    decodeURIComponent(u.pathname.slice(1)) || (u.username ? decodeURIComponent(u.username) : '');
  switch (e.code) {
    case 'ECONNREFUSED':
      return `Cannot reach Postgres at ${where}: connection refused (is the server running, and is ${u.host} the right host and port?).`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Cannot reach Postgres at ${where}: no such host ${host}.`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `Cannot reach Postgres at ${where}: ${e.code} (a firewall, or the wrong address?).`;
    case '28P01':
    case '28000':
      return `Postgres at ${where} refused the login: ${e.message}. Check the user and password in --to.`;
    case '3D000':
      return `Postgres at ${where}: database "${database}" does not exist. Create it first (createdb ${database}), then db:copy again.`;
    default:
      if (/timeout/i.test(e.message))
        return `Cannot reach Postgres at ${where}: no answer within the timeout (a firewall, or the wrong address?).`;
      return `Cannot reach Postgres at ${where}: ${e.message}.`;
  }
}

/** Connects once and runs `SELECT 1`; a CopyRefusal saying what is wrong when it cannot. */
export async function reachPostgres(url: string, timeoutMs = 10_000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // A connection the server drops later must not crash the process: the query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (e) {
    throw new CopyRefusal(reachProblem(e as PgError, url));
  } finally {
    await client.end().catch(() => {});
  }
}
