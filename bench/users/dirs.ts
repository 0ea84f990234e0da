/** Where the bench keeps its data: bench/.data/users (git-ignored); cached files stay between runs. */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const usersDataDir = join(import.meta.dirname, '..', '.data', 'users');

/** An emptied folder under usersDataDir for this invocation's copies, logs and probe files. */
export function freshDir(name: string): string {
  const dir = join(usersDataDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}
