/** The App Home's batch buttons: Next page, Details, Back to list and First page re-publish what was asked for. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importText, waitFor } from '../helpers.js';
import { startSlackApp } from '../security/slack-kit.js';
import { eventBody, slackPost, viewActionBody } from './fake-slack.js';

type Json = Record<string, unknown>;
type Button = { action_id: string; value: string; text: { text: string } };

let t: Awaited<ReturnType<typeof startSlackApp>>;
beforeEach(async () => {
  t = await startSlackApp({ SLACK_ADMIN_USERS: 'UADMIN' });
});
afterEach(() => t.stop());

/** The App Home last published for the user. */
const lastHome = () =>
  t.slack.callsTo('views.publish').at(-1)!.params.view as Json & { type: string; blocks: Json[] };
const buttons = (blocks: Json[]): Button[] =>
  blocks.flatMap((b) => ((b.elements as Json[] | undefined) ?? []) as Button[]).filter((e) => e.action_id);

/** The "Manage Batches" section of a Home, as text (the Home also lists the last five imports). */
function manage(blocks: Json[]): string {
  const text = JSON.stringify(blocks);
  const start = text.indexOf(':package: Manage Batches');
  expect(start).toBeGreaterThan(0);
  return text.slice(start, text.indexOf(':rocket: Send'));
}

/** Clicks a button of the published Home as Slack would; waits for the Home to be published again. */
async function clickHome(pick: (b: Button, blocks: Json[]) => boolean): Promise<Json[]> {
  const view = lastHome();
  const button = buttons(view.blocks).find((b) => pick(b, view.blocks));
  expect(button, 'button in the App Home').toBeDefined();
  const before = t.slack.callsTo('views.publish').length;
  const res = await slackPost(
    t.url,
    viewActionBody({ action_id: button!.action_id, value: button!.value }, 'UADMIN', view),
    { type: 'form' },
  );
  expect(res.status).toBe(200);
  await t.settle();
  await waitFor(() => t.slack.callsTo('views.publish').length > before);
  expect(t.slack.responses).toEqual([]);
  return lastHome().blocks;
}

describe('App Home batch buttons', () => {
  it('with 12 batches, Next page shows the two oldest; Details, Back to list and First page work in the Home', async () => {
    for (let i = 1; i <= 12; i++)
      await importText(t.app.services, `email,name\nperson${i}@x.com,Person ${i}\n`, {
        fileName: `batch-${String(i).padStart(2, '0')}.csv`,
      });
    await slackPost(t.url, eventBody({ type: 'app_home_opened', user: 'UADMIN', tab: 'home' }, 'EvHome'));
    await waitFor(() => t.slack.callsTo('views.publish')[0]);
    const first = manage(lastHome().blocks);
    expect(first).toContain('batch-12.csv');
    expect(first).not.toContain('batch-02.csv');

    const page2 = manage(await clickHome((b) => b.text.text === 'Next page'));
    expect(page2).toContain('batch-02.csv');
    expect(page2).toContain('batch-01.csv');
    expect(page2).not.toContain('batch-12.csv');
    expect(JSON.stringify(lastHome().blocks)).toContain(':rocket: Send'); // still the whole Home

    const oldest = (await t.app.services.batches.list({ limit: 20 })).batches.at(-1)!;
    expect(oldest.name).toBe('batch-01.csv');
    const details = manage(
      await clickHome((b) => b.text.text === 'Details' && JSON.parse(b.value).id === oldest.id),
    );
    expect(details).toContain('Contacts by status');
    expect(details).toContain('person1@x.com');

    // Activate in the details keeps the details, now active.
    const activated = JSON.stringify(await clickHome((b) => b.action_id === 'batch_activate'));
    expect(manage(lastHome().blocks)).toContain('Contacts by status');
    expect((await t.app.services.batches.getActive())?.id).toBe(oldest.id);
    expect(activated).toContain('is now the active batch');
    expect(activated).toContain('Contacts by status');

    const back = manage(await clickHome((b) => b.text.text === 'Back to list'));
    expect(back).toContain('batch-02.csv');
    expect(back).not.toContain('Contacts by status');

    const again = manage(await clickHome((b) => b.text.text === 'First page'));
    expect(again).toContain('batch-12.csv');
    expect(again).not.toContain('batch-02.csv');
  });
});
