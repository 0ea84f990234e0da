/**
 * node-cron's messages go to the app's structured log, not the console: a tick skipped because
 * the previous one still runs (noOverlap, by design) is a debug line naming the task, and the
 * slow task still runs once at a time.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startScheduler } from '../../src/scheduler/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('scheduler log', () => {
  it('a tick that overlaps the one still running is skipped with a debug line, nothing on the console', async () => {
    const lines: { level: number; msg: string; task?: string; module?: string }[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        cb();
      },
    });
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    let running = 0;
    let most = 0;
    let runs = 0;
    const scheduler = startScheduler(
      [
        {
          name: 'slow',
          everyMs: 1000,
          run: async () => {
            runs++;
            running++;
            most = Math.max(most, running);
            await new Promise((r) => setTimeout(r, 2600));
            running--;
          },
        },
      ],
      createLogger('debug', sink),
    );
    await new Promise((r) => setTimeout(r, 4300));
    await scheduler.stop();

    expect(runs).toBeGreaterThanOrEqual(1);
    expect(most).toBe(1);
    const skipped = lines.filter((l) => l.msg.startsWith('task still running'));
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    for (const l of skipped) expect(l).toMatchObject({ level: 20, task: 'slow', module: 'scheduler' });
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });
});
