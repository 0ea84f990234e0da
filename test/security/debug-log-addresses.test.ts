/**
 * LOG_LEVEL=debug turns on the Slack SDK's own lines, which quote whole request and response
 * bodies (`http request body: {…}`): an address a person typed or the app answered with must not
 * reach the log through them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { importText, memoryLog } from '../helpers.js';
import { command, postForm, startSlackApp } from './slack-kit.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe('debug log', () => {
  it('Slack SDK lines (request and response bodies) carry no e-mail address', async () => {
    const log = memoryLog();
    const t = await startSlackApp(
      { SLACK_ADMIN_USERS: 'UADMIN', LOG_LEVEL: 'debug' },
      { logDestination: log.stream },
    );
    stops.push(t.stop);
    await importText(t.app.services, 'email,name\nana.debug@leads-example.com,Ana\n');
    const res = await postForm(
      t.url,
      command('/contacts', 'export ana.debug@leads-example.com', 'UADMIN', t.slack.responseUrl('why')),
    );
    expect(res.status).toBe(200);
    await t.settle();
    await t.app.services.batches.list(); // the answer went out before this line

    const bolt = log.lines().filter((l) => l.module === 'bolt');
    expect(bolt.some((l) => l.level === 20)).toBe(true); // debug lines were written
    const text = JSON.stringify(log.lines());
    expect(text).not.toMatch(/ana\.debug(@|%40)leads-example\.com/i);
  });
});
