import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Who is filling an `importing` batch: `host:pid:token`, the token naming one ImportService (so
 * an app restarted inside the same process — as tests do — is a different importer).
 */
export function newImporter(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Whether the importer of an `importing` batch may still be working on it, seen from `self`.
 * Live: this very importer, or another process on this host that still runs (the app while the
 * CLI starts, or the reverse). Gone: no importer recorded (rows from before), another host (a
 * SQLite file has one machine), an earlier ImportService of this process, or a process that ended.
 */
export function importerMayBeAlive(importer: string | null, self: string): boolean {
  if (importer === null) return false;
  if (importer === self) return true;
  const [host, pidText] = importer.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return e instanceof Error && 'code' in e && e.code === 'EPERM';
  }
}
