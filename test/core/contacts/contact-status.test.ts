/**
 * A person's status changes around the mailbox's statuses: someone who replied or complained may
 * be set back to active (with a history row), but no status change lifts a suppression.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { emailHash } from '../../../src/core/contacts/email-hash.js';
import { importText, refusal, testClock, testCore } from '../../helpers.js';

let core: ReturnType<typeof testCore>;
afterEach(() => core.cleanup());

async function setup() {
  const clock = testClock(Date.UTC(2026, 1, 3, 9));
  core = testCore({ clock });
  const s = core.services;
  await importText(s, 'email\nana@x.com\ndan@x.com\nbob@x.com\neva@x.com\n');
  const sqlite = core.db.$client;
  const idOf = (email: string) =>
    sqlite.prepare<[string], { id: number }>('SELECT id FROM contacts WHERE email = ?').get(email)!.id;
  const suppression = (email: string) =>
    sqlite
      .prepare<[Buffer], { reason: string; actor: string }>(
        'SELECT reason, actor FROM suppressions WHERE email_hash = ?',
      )
      .get(emailHash(email)) ?? null;
  return { s, clock, sqlite, idOf, suppression };
}

describe('contact status and the mailbox statuses', () => {
  it('someone who replied is set back to active with a history row, and can be mailed again', async () => {
    const { s, clock, idOf, sqlite } = await setup();
    const ana = idOf('ana@x.com');
    await s.contacts.setStatus(ana, 'replied', 'system', 'replied to Intro');
    sqlite.prepare("UPDATE contacts SET interest = 'interested' WHERE id = ?").run(ana);
    expect(await s.contacts.get(ana)).toMatchObject({
      status: 'replied',
      sendable: false,
      notSendableReason: 'replied',
    });

    clock.advance(60_000);
    const back = await s.contacts.setStatusByEmail(' ANA@x.com ', 'active', 'U1', 'followed up by phone');
    expect(back).toMatchObject({
      id: ana,
      status: 'active',
      interest: 'interested',
      sendable: true,
      notSendableReason: null,
      suppression: null,
    });
    expect((await s.contacts.history(ana)).at(-1)).toEqual({
      at: new Date(clock.now()).toISOString(),
      from: 'replied',
      to: 'active',
      actor: 'U1',
      reason: 'followed up by phone',
    });
  });

  it('complained suppresses the address; set back to active, the contact stays suppressed and unmailable', async () => {
    const { s, idOf, suppression } = await setup();
    const dan = idOf('dan@x.com');
    await s.contacts.setStatus(dan, 'complained', 'system', 'spam report');
    expect(suppression('dan@x.com')).toEqual({ reason: 'complained', actor: 'system' });

    const back = await s.contacts.setStatus(dan, 'active', 'U1', 'complaint was a mistake');
    expect(back).toMatchObject({
      status: 'active',
      sendable: false,
      notSendableReason: 'suppressed',
      suppression: { reason: 'complained', actor: 'system' },
    });
    expect(suppression('dan@x.com')).toEqual({ reason: 'complained', actor: 'system' });
    expect((await s.contacts.history(dan)).map((h) => `${h.from}>${h.to}`)).toEqual([
      'active>complained',
      'complained>active',
    ]);
    // The audience leaves the address out.
    expect((await s.audience.summary()).excluded).toMatchObject({ suppressed: 1 });
  });

  it('bounced, unsubscribed and an inbox suppression still refuse active', async () => {
    const { s, clock, idOf, sqlite } = await setup();
    await s.contacts.setStatus(idOf('bob@x.com'), 'bounced', 'system', '550 no such user');
    const bounced = await refusal(() => s.contacts.setStatus(idOf('bob@x.com'), 'active', 'U1'));
    expect(bounced.code).toBe('suppressed');
    expect((await s.contacts.get(idOf('bob@x.com'))).status).toBe('bounced');

    // eva soft-bounced too often (the mailbox suppressed her), then was excluded by hand.
    sqlite
      .prepare(
        "INSERT INTO suppressions (email_hash, reason, actor, created_at) VALUES (?, 'soft_bounced', 'system', ?)",
      )
      .run(emailHash('eva@x.com'), clock.now());
    await s.contacts.setStatus(idOf('eva@x.com'), 'inactive', 'U1');
    const soft = await refusal(() => s.contacts.setStatus(idOf('eva@x.com'), 'active', 'U1'));
    expect(soft).toMatchObject({ code: 'suppressed', details: { reason: 'soft_bounced' } });
    expect((await s.contacts.get(idOf('eva@x.com'))).suppression).toMatchObject({ reason: 'soft_bounced' });
  });

  it('by address: an unknown address is not_found, a bad one invalid_input', async () => {
    const { s } = await setup();
    expect((await refusal(() => s.contacts.setStatusByEmail('nobody@x.com', 'active', 'U1'))).code).toBe(
      'not_found',
    );
    expect((await refusal(() => s.contacts.setStatusByEmail('not an address', 'active', 'U1'))).code).toBe(
      'invalid_input',
    );
  });
});
