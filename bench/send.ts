import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/core/index.js';
import { migrateDb, openDb } from '../src/db/client.js';
import { sqliteStores } from '../src/db/sqlite/stores.js';
import type { Logger } from '../src/logger.js';
import { createMailer } from '../src/mail/index.js';
import { round, seedContacts } from './util.js';

/** A local SMTP sink in its own process (as a real server would be), so it does not share our CPU. */
export async function sink(): Promise<{ url: string; close: () => Promise<void> }> {
  const child = fork(join(import.meta.dirname, 'sink-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<string>((resolve) => {
    child.stdout?.once('data', (d) => resolve(String(d).trim()));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: async () => {
      child.kill();
      await once(child, 'exit');
    },
  };
}

/** The send case: `n` messages of a campaign through the real engine vs nodemailer's pool alone. */
export async function benchSend(n: number, dir: string, log: Logger) {
  const s = await sink();
  const pool = { pool: true, maxConnections: 5, url: s.url, ignoreTLS: true } as const;
  const transport = nodemailer.createTransport(pool);
  const messages = Array.from({ length: n }, (_, i) => ({
    from: 'Sales <sales@bench.test>',
    to: `base${i}@example.com`,
    subject: `Hi Person ${i}`,
    text: `Hello Person ${i},\n\nA short note.\n\n--\nUnsubscribe: https://x.test/u/${i}\nBench St 1\n`,
    headers: {
      'List-Unsubscribe': `<https://x.test/u/${i}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  }));
  const t0 = performance.now();
  await Promise.all(messages.map((m) => transport.sendMail(m)));
  const baseline = n / ((performance.now() - t0) / 1000);
  transport.close();

  const config = loadConfig({
    MAIL_POSTAL_ADDRESS: 'Bench St 1',
    MAIL_FROM: 'Sales <sales@bench.test>',
    SMTP_URL: s.url,
    PUBLIC_URL: 'https://bench.test',
    LOG_LEVEL: 'silent',
  });
  const db = openDb(join(dir, 'send.db'));
  migrateDb(db);
  seedContacts(db.$client, n, 'batch_000send_1', 'send', 'active');
  const mailer = createMailer({ smtpUrl: s.url, outboxDir: dir, maxConnections: 5, log });
  const services = createServices(
    { log, clock: { now: () => Date.now() } },
    sqliteStores(db),
    config,
    mailer,
  );
  const campaign = await services.campaigns.create(
    {
      name: 'bench',
      subject: 'Hi {{first_name|there}}',
      body: 'Hello {{name}},\n\nA short note.',
      sendAt: 'now',
    },
    'bench',
  );
  const t1 = performance.now();
  while ((await services.campaigns.get(campaign.id)).status !== 'completed') await services.sending.runDue();
  const rate = n / ((performance.now() - t1) / 1000);
  const counts = await services.campaigns.counts(campaign.id);
  await mailer.close();
  db.$client.close();
  await s.close();
  const exact = rate / baseline;
  const ratio = round(exact, 2);
  return {
    case: `send (${n} messages)`,
    figure: Math.round(rate),
    unit: 'messages/s',
    baseline: Math.round(baseline),
    ratio,
    target: '≥ 0.8 × baseline',
    met: exact >= 0.8 && counts.sent === n,
    extra: { sent: counts.sent },
  };
}
