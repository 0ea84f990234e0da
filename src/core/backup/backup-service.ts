import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import type { OpsEvent } from '../events.js';
import type { CoreDeps } from '../types.js';
import type { BackupStore } from './backup-store.js';

export type BackupConfig = {
  dir: string;
  /** Backups kept; older ones are removed after each new one. */
  keep: number;
};

export type Backup = {
  file: string;
  bytes: number;
  durationMs: number;
  batches: number;
  contacts: number;
  /** Older backups removed to keep BACKUP_KEEP. */
  removed: string[];
};

const backupName = /^coldbatch-\d{8}-\d{6}-\d{3}\.db$/;

const stamp = (ms: number) => {
  const d = new Date(ms).toISOString(); // 2026-11-25T03:00:00.000Z
  return `${d.slice(0, 10).replaceAll('-', '')}-${d.slice(11, 19).replaceAll(':', '')}-${d.slice(20, 23)}`;
};

/**
 * Online backups of the database into files: a snapshot the BackupStore takes while imports and
 * sends go on, checked (integrity_check, foreign_key_check) before it takes its final name, then
 * the oldest beyond `keep` removed. One backup at a time: a second call while one runs gets the same.
 */
export class BackupService {
  private readonly log;
  private running: Promise<Backup> | null = null;

  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    readonly config: BackupConfig,
    private readonly store: BackupStore,
    private readonly notify: (e: OpsEvent) => void = () => {},
  ) {
    this.log = deps.log.child({ module: 'backup' });
  }

  /** Takes one backup now (or joins the one under way); `reason` goes to the log. */
  run(reason: string): Promise<Backup> {
    this.running ??= this.backup(reason).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Backup files, newest first. */
  list(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.config.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => backupName.test(n))
      .sort()
      .reverse()
      .map((n) => join(this.config.dir, n));
  }

  private async backup(reason: string): Promise<Backup> {
    const started = performance.now();
    const file = join(this.config.dir, `coldbatch-${stamp(this.deps.clock.now())}.db`);
    const partial = `${file}.partial`;
    try {
      // Backups hold every contact: this user only (a folder that already exists keeps its mode).
      mkdirSync(this.config.dir, { recursive: true, mode: 0o700 });
      rmSync(partial, { force: true });
      // VACUUM INTO fills an empty file that exists, keeping its mode: created 0600 before the copy.
      closeSync(openSync(partial, 'wx', 0o600));
      const check = await this.store.snapshot(partial);
      if (check.integrity !== 'ok' || check.foreignKeyProblems > 0) {
        throw new Error(
          `the copy failed its check (integrity_check: ${check.integrity}; ${check.foreignKeyProblems} foreign key problems)`,
        );
      }
      chmodSync(partial, 0o600);
      renameSync(partial, file);
      const removed = this.prune();
      const backup: Backup = {
        file,
        bytes: statSync(file).size,
        durationMs: Math.round(performance.now() - started),
        batches: check.batches,
        contacts: check.contacts,
        removed,
      };
      this.log.info({ reason, ...backup }, 'backup written');
      return backup;
    } catch (e) {
      try {
        rmSync(partial, { force: true });
      } catch {
        // the folder itself is the problem: nothing was written in it
      }
      this.log.error({ reason, err: e, dir: this.config.dir }, 'backup failed');
      this.notify({ type: 'backup_failed', reason, message: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  private prune(): string[] {
    const old = this.list().slice(this.config.keep);
    for (const f of old) rmSync(f, { force: true });
    return old;
  }
}
