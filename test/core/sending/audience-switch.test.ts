import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, testCore, waitFor } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const file = (prefix: string, n: number) =>
  `email\n${Array.from({ length: n }, (_, i) => `${prefix}${i}@x.com`).join('\n')}\n`;

it('a batch with lower ids activated while a campaign sends is still reached before the campaign completes', async () => {
  const sink = await startSink({ delayMs: 20 });
  cleanups.push(() => sink.close());
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  cleanups.push(() => mailer.close());
  const core = testCore({ mailer, env: { SMTP_MAX_CONNECTIONS: '2' } });
  cleanups.push(core.cleanup);
  const s = core.services;
  const older = await importText(s, file('older', 30), { fileName: 'older.csv' }); // ids 1–30
  await importText(s, file('newer', 60), { fileName: 'newer.csv' }); // ids 31–90, active
  const campaign = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');

  const run = s.sending.runDue();
  // Part of the newer batch is out, then the older one (lower ids) becomes the active batch.
  await waitFor(() => sink.received.length >= 10);
  await s.batches.activate(older.batch.id, 'U1');
  await run;
  for (let i = 0; i < 20 && (await s.campaigns.get(campaign.id)).status === 'sending'; i++)
    await s.sending.runDue();

  const to = sink.received.map((m) => m.to);
  expect(new Set(to).size).toBe(to.length);
  expect((await s.campaigns.get(campaign.id)).status).toBe('completed');
  // Everyone in the batch active at the end got it (before the fix, the cursor past id 30 made
  // the claim come back empty and the campaign completed without them).
  const olderGot = to.filter((a) => a.startsWith('older'));
  expect(olderGot).toHaveLength(30);
  expect(to.filter((a) => a.startsWith('newer')).length).toBeLessThan(60);
});
