import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export type CliRun = { code: number | null; stdout: string; stderr: string };

/**
 * A CLI script (src/cli/<name>.ts) as a child process (several may run at once) against DATABASE_PATH, with the rest of the
 * configuration fixed so a developer's own .env or shell cannot change the outcome.
 */
export function runCli(
  script: string,
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string; command?: string[] } = {},
): Promise<CliRun> {
  const [cmd, ...pre] = opts.command ?? [process.execPath, '--import', 'tsx', `src/cli/${script}.ts`];
  const child = spawn(cmd!, [...pre, ...args], {
    cwd: opts.cwd ?? root,
    env: {
      ...process.env,
      INIT_CWD: root,
      LOG_LEVEL: 'warn',
      VALIDATE_ON_IMPORT: 'false',
      SMTP_URL: '',
      SMTP_URLS: '',
      WEBHOOK_URLS: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
