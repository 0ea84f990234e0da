import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { startTestApp, tempDir, uploadCsv } from '../helpers.js';

/**
 * Unsubscribe links over HTTP under attack: tampered, transplanted and stale-key tokens are
 * refused with a 4xx page and change nothing; a real RFC 8058 one-click POST works.
 * (Token signing itself is covered in test/mail/unsubscribe-token.test.ts.)
 */

const secretA = 'unsubscribe-secret-A-0123456789';
const secretB = 'unsubscribe-secret-B-9876543210';

let dir: ReturnType<typeof tempDir>;
let url: string;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let stopApp: (() => Promise<void>) | undefined;

async function boot(secret: string) {
  const t = await startTestApp(
    {
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Av. Paulista 1000, São Paulo',
      MAIL_OUTBOX_DIR: join(dir.dir, 'outbox'),
      PUBLIC_URL: 'https://links.coldbatch.test',
      DATABASE_PATH: join(dir.dir, 'unsub.db'),
      UNSUBSCRIBE_SECRET: secret,
    },
    { scheduler: false },
  );
  url = t.url;
  app = t.app;
  stopApp = t.stop;
}

beforeEach(async () => {
  dir = tempDir();
  await boot(secretA);
});
afterEach(async () => {
  await stopApp?.();
  stopApp = undefined;
  dir.cleanup();
});

type Send = { id: number; email: string };

/** Imports two people, sends them a campaign into the outbox, and returns each one's send and link path. */
async function sendToTwo(campaignName = 'Intro') {
  await uploadCsv(url, 'email,name\nana@x.com,Ana\nbia@x.com,Bia\n');
  const created = await fetch(`${url}/campaigns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: campaignName,
      subject: 'Hi',
      body: 'Body {{unsubscribe_url}}',
      sendAt: 'now',
    }),
  });
  expect(created.status).toBe(201);
  await app.services.sending.runDue();
  const sends = app.db.$client
    .prepare(
      'SELECT s.id AS id, c.email AS email FROM sends s JOIN contacts c ON c.id = s.contact_id ORDER BY c.email',
    )
    .all() as Send[];
  expect(sends.map((s) => s.email)).toEqual(['ana@x.com', 'bia@x.com']);
  const outbox = join(dir.dir, 'outbox');
  const emls = readdirSync(outbox)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(join(outbox, f), 'utf8').replace(/\r?\n\s+/g, ' '));
  const linkOf = (email: string) => {
    const eml = emls.find((t) => new RegExp(`^To: ${email.replace('.', '\\.')}$`, 'm').test(t));
    return /List-Unsubscribe: <https:\/\/links\.coldbatch\.test(\/u\/[^>]+)>/.exec(eml ?? '')?.[1];
  };
  const [ana, bia] = sends as [Send, Send];
  const anaLink = linkOf('ana@x.com');
  const biaLink = linkOf('bia@x.com');
  // the links in the e-mails are the ones we can forge ourselves with the key: the tests below are about them
  expect(anaLink).toBe(`/u/${signUnsubscribeToken(ana.id, secretA)}`);
  expect(biaLink).toBe(`/u/${signUnsubscribeToken(bia.id, secretA)}`);
  return { ana, bia, anaLink: anaLink!, biaLink: biaLink! };
}

/** Everything an unsubscribe changes. */
function optOutState() {
  const db = app.db.$client;
  return {
    contacts: db.prepare('SELECT email, status FROM contacts ORDER BY email').all(),
    suppressions: db.prepare('SELECT count(*) FROM suppressions').pluck().get(),
    sends: db.prepare('SELECT id, unsubscribed_at FROM sends ORDER BY id').all(),
    events: db.prepare('SELECT count(*) FROM contact_history').pluck().get(),
  };
}

const oneClick = (path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
    ...init,
  });

/** GET, HEAD and one-click POST of a forged link: each refused with a 4xx, nothing changed. */
async function expectRefused(path: string, what: string) {
  const before = optOutState();
  for (const res of [
    await fetch(`${url}${path}`),
    await fetch(`${url}${path}`, { method: 'HEAD' }),
    await oneClick(path),
    await fetch(`${url}${path}`, { method: 'POST' }),
  ]) {
    expect(res.status, `${what}: ${res.url}`).toBeGreaterThanOrEqual(400);
    expect(res.status, what).toBeLessThan(500);
    const body = await res.text();
    if (res.headers.get('content-type')?.includes('html')) {
      expect(body).not.toContain('You are unsubscribed');
      expect(body).not.toContain('<form');
    }
  }
  expect(optOutState(), what).toEqual(before);
}

function flip(token: string, i: number): string {
  const c = token[i] === 'A' ? 'B' : 'A';
  return token.slice(0, i) + c + token.slice(i + 1);
}

describe('unsubscribe links over HTTP: forged tokens change nothing', () => {
  it('a link with any one character changed is refused (GET, HEAD, POST)', async () => {
    const { anaLink } = await sendToTwo();
    const token = anaLink.slice('/u/'.length);
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      await expectRefused(`/u/${flip(token, i)}`, `position ${i}`);
    }
    // the untouched link still works afterwards (the refusals did not break it)
    expect((await fetch(`${url}${anaLink}`)).status).toBe(200);
  });

  it("another person's send id with the first person's MAC is refused", async () => {
    const { ana, bia, anaLink } = await sendToTwo();
    const mac = anaLink.split('.')[1]!;
    await expectRefused(`/u/${bia.id.toString(36)}.${mac}`, 'transplanted MAC');
    // neighbours and far ids with the same MAC: nobody can be unsubscribed by guessing
    for (const id of [ana.id + 2, ana.id + 100, 1_000_000]) {
      await expectRefused(`/u/${id.toString(36)}.${mac}`, `id ${id}`);
    }
    expect(await app.services.contacts.isSuppressed('bia@x.com')).toBe(false);
  });

  it('a token signed with an old key (UNSUBSCRIBE_SECRET changed) or a guessed key is refused', async () => {
    const { ana, anaLink } = await sendToTwo();
    await expectRefused(`/u/${signUnsubscribeToken(ana.id, 'guessed-secret-0000000000')}`, 'guessed key');
    await expectRefused(`/u/${signUnsubscribeToken(ana.id, 'secret')}`, 'weak key');
    await stopApp?.();
    await boot(secretB);
    await expectRefused(anaLink, 'rotated key');
    await expectRefused(`/u/${signUnsubscribeToken(ana.id, secretA)}`, 'old key');
    // the new key signs valid links for the same send
    expect((await oneClick(`/u/${signUnsubscribeToken(ana.id, secretB)}`)).status).toBe(200);
    expect(await app.services.contacts.isSuppressed('ana@x.com')).toBe(true);
  });

  it('garbage, oversized and markup tokens are refused without echoing them', async () => {
    await sendToTwo();
    for (const token of [
      'garbage',
      '..%2F..%2Fetc%2Fpasswd',
      '%00',
      '1.%3Cscript%3Ealert(1)%3C%2Fscript%3E',
      "1' OR '1'='1",
      `1.${'A'.repeat(24)}`,
      `1.${'A'.repeat(500)}`,
      'x'.repeat(5000),
    ]) {
      await expectRefused(`/u/${token}`, token.slice(0, 40));
      const page = await (await fetch(`${url}/u/${token}`)).text();
      expect(page).not.toContain('<script>');
    }
  });
});

describe('unsubscribe links over HTTP: the real one-click', () => {
  it('a one-click POST without cookies unsubscribes and suppresses only that person, once', async () => {
    const { anaLink } = await sendToTwo();
    const res = await oneClick(anaLink);
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('You are unsubscribed');
    const state = optOutState();
    expect(state.contacts).toEqual([
      { email: 'ana@x.com', status: 'unsubscribed' },
      { email: 'bia@x.com', status: 'active' },
    ]);
    expect(state.suppressions).toBe(1);
    expect(await app.services.contacts.isSuppressed('ana@x.com')).toBe(true);
    expect(await app.services.contacts.isSuppressed('bia@x.com')).toBe(false);
    // again: 200, nothing more changes
    expect((await oneClick(anaLink)).status).toBe(200);
    expect(optOutState()).toEqual(state);
  });

  it('one-click as multipart/form-data (also allowed by RFC 8058) works', async () => {
    const { biaLink } = await sendToTwo();
    const form = new FormData();
    form.append('List-Unsubscribe', 'One-Click');
    const res = await fetch(`${url}${biaLink}`, { method: 'POST', redirect: 'manual', body: form });
    expect(res.status).toBe(200);
    expect(await app.services.contacts.isSuppressed('bia@x.com')).toBe(true);
    expect(await app.services.contacts.isSuppressed('ana@x.com')).toBe(false);
  });

  it('the confirmation page shows a hostile campaign name as text', async () => {
    const { anaLink } = await sendToTwo('<script>alert(1)</script> & "quotes"');
    const html = await (await fetch(`${url}${anaLink}`)).text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
  });
});
