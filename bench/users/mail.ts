/** The SMTP sink (its own process) and the send baseline: nodemailer alone with the server's window. */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

export type SinkStats = { count: number; first: number; last: number; distinct: number };

export type Sink = {
  url: string;
  reset: () => Promise<void>;
  stats: () => Promise<SinkStats>;
  close: () => Promise<void>;
};

export async function startSink(): Promise<Sink> {
  const child = fork(join(import.meta.dirname, 'sink-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<string>((resolve) => {
    child.stdout?.once('data', (d) => resolve(String(d).trim()));
  });
  const ask = async (m: string) => {
    const reply = once(child, 'message');
    child.send(m);
    const [answer] = await reply;
    return answer as SinkStats;
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    reset: async () => {
      await ask('reset');
    },
    stats: () => ask('stats'),
    close: async () => {
      const gone = once(child, 'exit');
      child.kill();
      await gone;
    },
  };
}

/** A message shaped like the server's (headers, a short text body with the footer). */
function message(i: number) {
  return {
    from: 'Sales <sales@bench.example.com>',
    to: `base${i}@example.com`,
    subject: `Quick question, Person${i}`,
    text: `Hi Person${i},\n\nA short note about your work at Acme.\n\n--\nUnsubscribe: https://bench.example.com/u/${'x'.repeat(60)}${i}\nBench St 1, 01000 Sao Paulo\n`,
    headers: {
      'List-Unsubscribe': `<https://bench.example.com/u/${'x'.repeat(60)}${i}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

/**
 * Sends `n` messages through a nodemailer pool of `connections` with at most `window` in flight
 * (a sliding window, as the server's send engine keeps: twice the pool), using the options the
 * server's SMTP transport uses. Returns messages/s as the sink saw them (first to last received).
 */
export async function nodemailerBaseline(
  sink: Sink,
  n: number,
  connections: number,
  window: number,
): Promise<{ rate: number; wallRate: number; stats: SinkStats; cpuUs: number }> {
  const transport = nodemailer.createTransport({
    url: sink.url,
    pool: true,
    maxConnections: connections,
    maxRecipients: 1,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  await sink.reset();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < n) await transport.sendMail(message(next++));
  };
  await Promise.all(Array.from({ length: window }, worker));
  const wallRate = n / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  transport.close();
  const stats = await sink.stats();
  // CPU of this process (nodemailer alone) per message, µs
  return { rate: rateOf(stats), wallRate, stats, cpuUs: (cpu.user + cpu.system) / n };
}

/** Messages per second between the first and the last message the sink received. */
export function rateOf(s: SinkStats): number {
  return s.count > 1 ? (s.count - 1) / ((s.last - s.first) / 1000) : 0;
}
