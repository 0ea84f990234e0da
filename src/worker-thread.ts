import { type ResourceLimits, Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a module next to the caller, given as a URL relative to `base`
 * (the caller's import.meta.url) without extension: the `.ts` file under tsx (the tests), the
 * `.js` file once built (npm start and the command-line tools run dist/). `resourceLimits` bounds
 * the thread's V8 heap (Node's default lets each thread grow a 32 MB young generation).
 */
export function spawnWorker(
  base: string,
  relative: string,
  workerData: unknown,
  resourceLimits?: ResourceLimits,
): Worker {
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`${relative}${ext}`, base);
  if (ext === '.js') return new Worker(entry, { workerData, resourceLimits });
  // Node 20 does not pass --import loaders on to workers: register tsx inside the worker first.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits });
}
