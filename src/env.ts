import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/** The process environment over the values of a `.env` file (the environment wins). */
export function readEnv(path = '.env'): Record<string, string | undefined> {
  const fromFile = existsSync(path) ? parseEnv(readFileSync(path, 'utf8')) : {};
  return { ...fromFile, ...process.env };
}
