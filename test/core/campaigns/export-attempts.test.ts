import { parse } from 'csv-parse/sync';
import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, testClock, testCore } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('the results export counts every try: 1 for a message delivered at once, 2 after one 451, 1 for a bounce', async () => {
  let deferred = 0;
  const sink = await startSink({
    reject: (to) => {
      if (to === 'bounce@x.com') return 550;
      if (to === 'later@x.com' && deferred++ === 0) return 451;
      return undefined;
    },
  });
  cleanups.push(() => sink.close());
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  cleanups.push(() => mailer.close());
  const clock = testClock();
  const core = testCore({ clock, mailer });
  cleanups.push(core.cleanup);
  const s = core.services;
  await importText(s, 'email\nok@x.com\nlater@x.com\nbounce@x.com\n');
  const c = await s.campaigns.create({ name: 'c', subject: 's', body: 'b', sendAt: 'now' }, 'U1');

  await s.sending.runDue();
  clock.advance(61_000); // past the first retry delay
  await s.sending.runDue();
  expect((await s.campaigns.get(c.id)).status).toBe('completed');

  let csv = '';
  for await (const chunk of await s.campaigns.exportResults(c.id)) csv += chunk;
  const rows: Record<string, string>[] = parse(csv, { columns: true });
  const by = Object.fromEntries(rows.map((r) => [r.email, [r.status, r.attempts]]));
  expect(by).toEqual({
    'ok@x.com': ['sent', '1'],
    'later@x.com': ['sent', '2'],
    'bounce@x.com': ['bounced', '1'],
  });
});
