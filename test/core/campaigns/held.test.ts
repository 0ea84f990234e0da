/**
 * The doctor's hold in core, over a real SQLite file: only failing checks hold (and not those of
 * reserved test domains), a doctor that throws never blocks sending (a warn in the log), holds off
 * means never held; the history: one line per status change, in the change's transaction (a move
 * that lost writes none), capped to the last lines with how many were left out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudienceService } from '../../../src/core/audience/audience-service.js';
import { CampaignService } from '../../../src/core/campaigns/campaign-service.js';
import { type DoctorBlocking, DoctorHold, isReservedDomain } from '../../../src/core/campaigns/held.js';
import type { BlockingCheck } from '../../../src/core/deliverability/types.js';
import { sqliteStores } from '../../../src/db/sqlite/stores.js';
import { createLogger } from '../../../src/logger.js';
import { importText, memoryLog, testClock, testCore } from '../../helpers.js';

const clock = testClock(Date.UTC(2026, 2, 10, 12));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const check = (name: BlockingCheck['name'], domain: string | null): BlockingCheck => ({
  name,
  domain,
  title: name.toUpperCase(),
  result: 'fail',
  detail: `${name} is wrong`,
  fix: `fix ${name}`,
});

/** A CampaignService over a real database with the given doctor behind its hold. */
async function setup(doctor: DoctorBlocking, enabled = true) {
  const t = testCore({ clock });
  cleanups.push(t.cleanup);
  await importText(t.services, 'email\nana@acme.com\nbia@acme.com\n');
  const log = memoryLog();
  const logger = createLogger('info', log.stream, { format: 'json' });
  const stores = sqliteStores(t.db);
  const hold = new DoctorHold(doctor, enabled, logger);
  const campaigns = new CampaignService(
    { log: logger, clock },
    { defaultFrom: 'Sales <sales@acme.com>', postalAddress: 'Rua 1, São Paulo' },
    stores.campaigns,
    new AudienceService(stores.audience),
    hold,
  );
  return { campaigns, hold, log };
}

const input = { name: 'c', subject: 'Hello', body: 'A note.', sendAt: 'now' as const };

describe('DoctorHold', () => {
  it('holds on failing checks of real domains and general checks, never on reserved test names', async () => {
    const failing = [check('spf', 'acme.com'), check('dmarc', 'coldbatch.test'), check('mx', 'example.com')];
    const { hold } = await setup({ blocking: async () => [...failing, check('postal_address', null)] });
    expect((await hold.failing()).map((c) => [c.name, c.domain])).toEqual([
      ['spf', 'acme.com'],
      ['postal_address', null],
    ]);
    for (const d of ['a.test', 'x.example', 'nope.invalid', 'localhost', 'example.org', 'mail.example.net'])
      expect(isReservedDomain(d)).toBe(true);
    for (const d of ['acme.com', 'test.com', 'example.co', 'mytest.io'])
      expect(isReservedDomain(d)).toBe(false);
  });

  it('a doctor that throws does not block sending: the campaign is scheduled and the log says why', async () => {
    const { campaigns, log } = await setup({
      blocking: async () => {
        throw new Error('resolver exploded');
      },
    });
    const c = await campaigns.create(input, 'U1');
    expect(c.status).toBe('scheduled');
    const warn = log.lines().find((l) => l.msg === 'domain doctor could not run: the campaign is not held');
    expect(warn).toMatchObject({ level: 40 });
  });

  it('holds off (or the outbox): never held, the doctor is not asked', async () => {
    let asked = 0;
    const { campaigns } = await setup(
      {
        blocking: async () => {
          asked++;
          return [check('spf', 'acme.com')];
        },
      },
      false,
    );
    expect((await campaigns.create(input, 'U1')).status).toBe('scheduled');
    expect(asked).toBe(0);
  });
});

describe('campaign history', () => {
  it('records each status change with its actor; a change that lost records nothing', async () => {
    const { campaigns } = await setup({ blocking: async () => [check('spf', 'acme.com')] });
    const c = await campaigns.create({ ...input, sendAt: undefined }, 'U1');
    await campaigns.schedule(c.id, { sendAt: new Date(clock.now() + 3_600_000).toISOString() }, 'U2');
    await expect(campaigns.pause(c.id, 'U3')).rejects.toMatchObject({ code: 'conflict' });
    await campaigns.sendAnyway(c.id, 'U4');
    await campaigns.pause(c.id, 'U5');
    await campaigns.resume(c.id, 'U6');
    await campaigns.cancel(c.id, 'U7');
    const { history, omitted } = await campaigns.history(c.id);
    expect(history.map((e) => [e.kind, e.actor])).toEqual([
      ['created', 'U1'],
      ['held', 'U2'],
      ['sent_anyway', 'U4'],
      ['paused', 'U5'],
      ['resumed', 'U6'],
      ['cancelled', 'U7'],
    ]);
    expect(history[0]?.detail).toBe('draft');
    expect(history[1]?.detail).toBe('SPF (acme.com): spf is wrong');
    expect(omitted).toBe(0);
    // the campaign keeps the checks it was sent anyway over
    const after = await campaigns.get(c.id);
    expect(after.heldReason).toBeNull();
    expect(after.heldChecks?.map((k) => k.name)).toEqual(['spf']);
  });

  it('gives the last lines oldest first and says how many were left out', async () => {
    const { campaigns } = await setup({ blocking: async () => [] });
    const c = await campaigns.create(
      { ...input, sendAt: new Date(clock.now() + 3_600_000).toISOString() },
      'U1',
    );
    for (let i = 0; i < 60; i++) {
      clock.advance(1000);
      await campaigns.pause(c.id, 'U1');
      await campaigns.resume(c.id, 'U1');
    }
    const { history, omitted } = await campaigns.history(c.id);
    expect(history).toHaveLength(100);
    expect(omitted).toBe(21);
    expect(history.at(-1)?.kind).toBe('resumed');
    expect(history.map((e) => e.at)).toEqual([...history.map((e) => e.at)].sort((a, b) => a - b));
    expect((await campaigns.history(c.id, 3)).history.map((e) => e.kind)).toEqual([
      'resumed',
      'paused',
      'resumed',
    ]);
  });
});
