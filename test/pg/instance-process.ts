import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A real PgInstance (src/db/pg/instance.ts) in a process of its own on the database at `url`, to
 * be killed with SIGKILL as a crash or an OOM kill would: its liveness lock goes with it. Resolves
 * once the instance holds its lock, with its id and the process (the caller kills it).
 */
export async function instanceProcess(url: string): Promise<{ id: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { PgInstance } from './src/db/pg/instance.ts';
       import { createLogger } from './src/logger.ts';
       const i = await PgInstance.start(process.env.LEASE_URL, createLogger('silent'));
       process.stdout.write(i.id + '\\n');
       setInterval(() => {}, 1000);`,
    ],
    { cwd: process.cwd(), env: { ...process.env, LEASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const id = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`instance process exited (${code})`)));
    });
    return { id, child };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}
