/**
 * The inbox reader against a real IMAP server on loopback (hoodiecrow-imap), with a recording
 * handler standing in for MailboxService: what is read, flagged, retried, and never read twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { parseImapUrl } from '../../src/config-fields.js';
import type { MailboxRef } from '../../src/core/mailbox/types.js';
import { createLogger } from '../../src/logger.js';
import { type MailboxHandler, MailboxReader, type ReaderOptions } from '../../src/mail/imap/index.js';
import { memoryLog, startTestApp, waitFor } from '../helpers.js';
import { type ImapServer, imapPassword, imapUser, mail, startImapServer } from './imap-server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const done = ['\\Seen', '$Coldbatch'];
const subjectOf = (raw: Buffer) => /^Subject: (.*)$/m.exec(raw.toString('utf8'))?.[1]?.trim() ?? '';

/** What MailboxService would keep: each ref once; `failing` makes process throw (the database is down). */
function recorder() {
  const stored = new Map<string, string>();
  const key = (r: MailboxRef) => `${r.mailbox}|${r.uidValidity}|${r.uid}`;
  const r = {
    /** Every process() call, in order (subject of the message). */
    calls: [] as string[],
    refs: [] as MailboxRef[],
    failing: (_subject: string) => false,
    stored: () => [...stored.values()],
    handler: {
      async process(ref, raw) {
        const subject = subjectOf(raw);
        r.calls.push(subject);
        if (r.failing(subject)) throw new Error('SQLITE_BUSY: database is locked');
        if (stored.has(key(ref))) return 'duplicate';
        stored.set(key(ref), subject);
        r.refs.push(ref);
        return { id: stored.size, kind: 'unknown' };
      },
      async seen(ref) {
        return stored.has(key(ref));
      },
    } satisfies MailboxHandler,
  };
  return r;
}

function urlOf(server: ImapServer, password = imapPassword) {
  const url = `imap://${encodeURIComponent(imapUser)}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/INBOX`;
  const parsed = parseImapUrl(url);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.mailbox;
}

function reader(
  server: ImapServer,
  handler: MailboxHandler,
  options: Partial<ReaderOptions> & { password?: string } = {},
) {
  const log = memoryLog();
  const r = new MailboxReader(urlOf(server, options.password), handler, {
    log: createLogger('debug', log.stream),
    clock: systemClock,
    pollMs: 60_000,
    backoff: { minMs: 50, maxMs: 400 },
    stopGraceMs: 1000,
    ...options,
  });
  r.start();
  cleanups.push(() => r.stop());
  return { reader: r, log };
}

const upState = (r: MailboxReader) => ['idle', 'polling'].includes(r.state().state);

describe('MailboxReader (imapflow against hoodiecrow-imap)', () => {
  it('hands each message present at start to process once, oldest first, then flags it \\Seen and $Coldbatch', async () => {
    const server = await startImapServer({ messages: [mail(1), mail(2), mail(3)] });
    cleanups.push(server.kill);
    // Read by a person (\Seen) but not by coldbatch: still read. Already ours ($Coldbatch): skipped.
    const humanRead = server.append(mail(4), ['\\Seen']);
    server.append(mail(5), ['\\Seen', '$Coldbatch']);
    const rec = recorder();
    const { reader: r, log } = reader(server, rec.handler);

    await waitFor(() => server.messages().filter((m) => m.flags.includes('$Coldbatch')).length === 5);
    await waitFor(() => r.state().lastPassAt);
    expect(rec.calls).toEqual(['message 1', 'message 2', 'message 3', 'message 4']);
    expect(rec.refs.map((x) => x.uid)).toEqual([1, 2, 3, humanRead]);
    expect(rec.refs[0]).toEqual({
      mailbox: `imap://bounces%40coldbatch.test@127.0.0.1:${server.port}/INBOX`,
      uidValidity: '1',
      uid: 1,
    });
    for (const m of server.messages()) expect(m.flags).toEqual(expect.arrayContaining(done));
    expect(server.messages()).toHaveLength(5); // nothing deleted, nothing expunged
    expect(r.state()).toMatchObject({ state: 'idle', lastError: null });
    // The server takes keywords (PERMANENTFLAGS \*): UNKEYWORD $Coldbatch is what is searched.
    expect(log.lines().some((l) => /cannot store/.test(String(l.msg)))).toBe(false);
    expect(log.lines().find((l) => l.msg === 'mailbox read')).toMatchObject({
      processed: 4,
      flagged: 4,
      failed: 0,
    });
  });

  it('hands over the raw bytes of the message as the server holds them', async () => {
    const raw = `${mail('raw', 'ünïcødé body\r\n-- \r\nsig')}`;
    const server = await startImapServer({ messages: [raw] });
    cleanups.push(server.kill);
    let got: Buffer | null = null;
    const rec = recorder();
    const handler: MailboxHandler = {
      seen: rec.handler.seen,
      process: async (ref, source) => {
        got = source;
        return rec.handler.process(ref, source);
      },
    };
    reader(server, handler);
    const source = await waitFor(() => got);
    expect(source.equals(Buffer.from(raw, 'binary'))).toBe(true);
    // UTF-8 bytes (a real message is bytes, not characters) arrive unchanged too.
    got = null;
    const utf8 = Buffer.from(mail('utf8', 'olá, 東京 🙂'), 'utf8');
    server.append(utf8);
    expect((await waitFor(() => got)).equals(utf8)).toBe(true);
  });

  it('reads a message that arrives while it waits with IDLE at once (no poll needed)', async () => {
    const server = await startImapServer({ messages: [mail(1)] });
    cleanups.push(server.kill);
    const rec = recorder();
    const { reader: r } = reader(server, rec.handler, { pollMs: 600_000 });
    await waitFor(() => rec.calls.length === 1 && r.state().state === 'idle');
    await new Promise((resolve) => setTimeout(resolve, 100)); // IDLE is running
    const uid = server.append(mail(2));
    await waitFor(() => server.flags(uid).includes('$Coldbatch'));
    expect(rec.calls).toEqual(['message 1', 'message 2']);
  });

  it('without IDLE on the server, polls every INBOX_POLL', async () => {
    const server = await startImapServer({ idle: false, messages: [mail(1)] });
    cleanups.push(server.kill);
    const rec = recorder();
    const { reader: r, log } = reader(server, rec.handler, { pollMs: 300 });
    await waitFor(() => rec.calls.length === 1);
    expect(r.state().state).toBe('polling');
    const uid = server.append(mail(2));
    await waitFor(() => server.flags(uid).includes('$Coldbatch'));
    expect(rec.calls).toEqual(['message 1', 'message 2']);
    expect(log.lines().some((l) => l.msg === 'mailbox connected; polling' && l.idle === false)).toBe(true);
  });

  it('also polls a server with IDLE when told not to idle', async () => {
    const server = await startImapServer({ messages: [] });
    cleanups.push(server.kill);
    const rec = recorder();
    const { reader: r } = reader(server, rec.handler, { pollMs: 300, idle: false });
    await waitFor(() => r.state().state === 'polling');
    const uid = server.append(mail(1));
    await waitFor(() => server.flags(uid).includes('$Coldbatch'));
  });

  it('leaves a message whose process() throws unflagged, goes on with the next, and reads it again on the next pass', async () => {
    const server = await startImapServer({ messages: [mail(1), mail(2), mail(3)] });
    cleanups.push(server.kill);
    const rec = recorder();
    let failures = 2;
    rec.failing = (s) => s === 'message 2' && failures-- > 0;
    const { log } = reader(server, rec.handler, { pollMs: 300 });

    await waitFor(() => server.flags(3).includes('$Coldbatch'));
    expect(server.flags(1)).toEqual(expect.arrayContaining(done));
    await waitFor(() => server.flags(2).includes('$Coldbatch'));
    expect(rec.calls).toEqual(['message 1', 'message 2', 'message 3', 'message 2', 'message 2']);
    expect(rec.stored()).toEqual(['message 1', 'message 3', 'message 2']);
    const warnings = log
      .lines()
      .filter((l) => l.msg === 'message not recorded: left unflagged, read again on the next pass');
    expect(warnings.map((l) => l.uid)).toEqual([2, 2]);
    expect(String(warnings[0]?.err)).toMatch(/database is locked/);
  });

  it('stops a pass after 3 failures in a row (the database is down) and reads them all once it is back', async () => {
    const server = await startImapServer({ messages: [1, 2, 3, 4, 5].map((n) => mail(n)) });
    cleanups.push(server.kill);
    const rec = recorder();
    let down = true;
    rec.failing = () => down;
    const { log } = reader(server, rec.handler, { pollMs: 300 });
    await waitFor(() => log.lines().some((l) => String(l.msg).startsWith('mailbox pass stopped')));
    expect(rec.calls.slice(0, 3)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(rec.calls).not.toContain('message 4'); // each pass gives up after the third
    expect(server.messages().every((m) => !m.flags.includes('$Coldbatch'))).toBe(true);
    down = false;
    await waitFor(() => server.messages().every((m) => m.flags.includes('$Coldbatch')));
    expect(rec.stored()).toEqual([1, 2, 3, 4, 5].map((n) => `message ${n}`));
  });

  it('after a restart reads nothing twice: flagged messages are skipped, recorded ones only flagged', async () => {
    const server = await startImapServer({ messages: [mail(1), mail(2)] });
    cleanups.push(server.kill);
    const rec = recorder();
    const first = reader(server, rec.handler);
    await waitFor(() => server.flags(2).includes('$Coldbatch'));
    await first.reader.stop();
    expect(first.reader.state().state).toBe('stopped');

    // A flag lost (another client cleared it): the record still knows message 1.
    const m1 = server.messages()[0]!;
    m1.flags = m1.flags.filter((f) => f !== '$Coldbatch');
    const uid3 = server.append(mail(3));
    const second = reader(server, rec.handler);
    await waitFor(() => server.flags(uid3).includes('$Coldbatch') && server.flags(1).includes('$Coldbatch'));
    expect(rec.calls).toEqual(['message 1', 'message 2', 'message 3']);
    expect(second.reader.state().state).toBe('idle');
  });

  it('when the server dies and another starts on the same port, reconnects with backoff and misses nothing', async () => {
    const first = await startImapServer({ messages: [mail(1)] });
    cleanups.push(first.kill);
    const rec = recorder();
    const { reader: r, log } = reader(first, rec.handler);
    await waitFor(() => first.flags(1).includes('$Coldbatch') && r.state().state === 'idle');

    await first.kill();
    await waitFor(() => r.state().state === 'reconnecting');
    // Mail arrives while the server is down (delivered to its store), and is waiting on restart.
    first.storage.INBOX!.messages!.push({ raw: mail(2), flags: [] });
    await waitFor(() => log.lines().filter((l) => l.msg === 'mailbox not reachable; retrying').length >= 3);

    const second = await startImapServer({ port: first.port, storage: first.storage });
    cleanups.push(second.kill);
    await waitFor(() => rec.calls.length === 2);
    const uid3 = second.append(mail(3));
    await waitFor(() => second.flags(uid3).includes('$Coldbatch'));
    expect(rec.calls).toEqual(['message 1', 'message 2', 'message 3']);
    expect(second.messages().every((m) => m.flags.includes('$Coldbatch'))).toBe(true);

    const lines = log.lines();
    expect(lines.find((l) => l.msg === 'mailbox disconnected; reconnecting')).toMatchObject({
      level: 40,
      module: 'imap',
      mailbox: `imap://bounces%40coldbatch.test@127.0.0.1:${first.port}/INBOX`,
    });
    // Doubling from 50 ms up to the 400 ms ceiling (± 20 % jitter).
    const delays = lines.filter((l) => typeof l.retryInS === 'number').map((l) => Number(l.retryInS));
    expect(delays.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...delays)).toBeLessThanOrEqual(0.5);
    expect(delays.slice(0, 4).every((d, i) => i === 0 || d >= delays[i - 1]! * 1.2)).toBe(true);
    expect(lines.filter((l) => l.msg === 'mailbox connected; waiting with IDLE')).toHaveLength(2);
    expect(r.state()).toMatchObject({ state: 'idle', lastError: null });
  });

  it('never shows the password: a refused login is a state with its reason, retried with backoff', async () => {
    const server = await startImapServer({ messages: [mail(1)] });
    cleanups.push(server.kill);
    const rec = recorder();
    const wrong = 'wr0ng-Secret-pa55';
    const { reader: r, log } = reader(server, rec.handler, { password: wrong });
    await waitFor(() => log.lines().filter((l) => l.msg === 'mailbox not reachable; retrying').length >= 2);
    expect(r.state()).toMatchObject({ state: 'reconnecting' });
    expect(r.state().lastError).toMatch(/fail/i);
    const all = JSON.stringify(log.lines()) + JSON.stringify(r.state());
    expect(all).not.toContain(wrong);
    expect(all).not.toContain(encodeURIComponent(wrong));
    expect(rec.calls).toEqual([]);
  });

  it('stop() logs out and leaves no socket or timer behind, whatever state it finds', async () => {
    const resources = () => {
      const info = process.getActiveResourcesInfo();
      return {
        sockets: info.filter((x) => x === 'TCPSocketWrap').length,
        timers: info.filter((x) => x === 'Timeout').length,
      };
    };
    const server = await startImapServer({ messages: [mail(1)] });
    cleanups.push(server.kill);
    const before = resources();
    const rec = recorder();
    const grace = { stopGraceMs: 10_000 }; // a clean logout, not the grace timeout, ends them
    const idle = reader(server, rec.handler, grace).reader;
    const polling = reader(server, rec.handler, { ...grace, idle: false, pollMs: 200 }).reader;
    const refused = reader(server, rec.handler, { ...grace, password: 'nope-nope' }).reader;
    await waitFor(() => upState(idle) && upState(polling) && refused.state().state === 'reconnecting');

    const t0 = Date.now();
    await Promise.all([idle.stop(), polling.stop(), refused.stop()]);
    expect(Date.now() - t0).toBeLessThan(5000);
    for (const r of [idle, polling, refused]) expect(r.state().state).toBe('stopped');
    await waitFor(() => server.connections() === 0);
    await waitFor(() => {
      const now = resources();
      return now.sockets <= before.sockets && now.timers <= before.timers;
    });
    await idle.stop(); // twice is fine
  });
});

describe('the readers in the app (INBOX_URL, SMTP_URLS #inbox=)', () => {
  it('reads each distinct mailbox into MailboxService after start, shows them in /healthz and stops with the app', async () => {
    const a = await startImapServer({ messages: [mail('a1')] });
    const b = await startImapServer({ idle: false, messages: [mail('b1')] });
    cleanups.push(a.kill, b.kill);
    const url = (s: ImapServer) =>
      `imap://${encodeURIComponent(imapUser)}:${encodeURIComponent(imapPassword)}@127.0.0.1:${s.port}/INBOX`;
    const token = 'api-token-0123456789abcdef';
    const log = memoryLog();
    const t = await startTestApp(
      {
        API_TOKEN: token,
        LOG_LEVEL: 'info',
        INBOX_URL: url(a),
        INBOX_POLL: '1s',
        SMTP_URLS: [
          `smtp://x:pw@127.0.0.1:2525#inbox=${encodeURIComponent(url(a))}`, // the same mailbox: read once
          `smtp://y:pw@127.0.0.1:2525#inbox=${encodeURIComponent(url(b))}`,
        ].join(','),
      },
      { scheduler: false, logDestination: log.stream },
    );
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : t.stop()));

    await waitFor(async () => (await t.app.services.mailbox.list({ limit: 10 })).messages.length === 2);
    const read = (await t.app.services.mailbox.list({ limit: 10 })).messages.map((m) => m.subject).sort();
    expect(read).toEqual(['message a1', 'message b1']);
    await waitFor(() => a.flags(1).includes('$Coldbatch') && b.flags(1).includes('$Coldbatch'));
    expect(b.flags(1)).toEqual(expect.arrayContaining(done));

    const open = (await (await fetch(`${t.url}/healthz`)).json()) as Record<string, unknown>;
    expect(open.inbox).toBe('ok');
    expect(open).not.toHaveProperty('mailboxes');
    const authed = (await (
      await fetch(`${t.url}/healthz`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { mailboxes: { mailbox: string; state: string; lastError: string | null }[] };
    expect(authed.mailboxes.map((m) => [m.mailbox, m.state])).toEqual([
      [`imap://bounces%40coldbatch.test@127.0.0.1:${a.port}/INBOX`, 'idle'],
      [`imap://bounces%40coldbatch.test@127.0.0.1:${b.port}/INBOX`, 'polling'],
    ]);
    expect(JSON.stringify(authed) + JSON.stringify(log.lines())).not.toContain(imapPassword);
    expect(JSON.stringify(log.lines())).not.toContain(encodeURIComponent(imapPassword));

    await t.stop();
    stopped = true;
    await waitFor(() => a.connections() === 0 && b.connections() === 0);
    expect(log.lines().filter((l) => l.msg === 'mailbox reader stopped')).toHaveLength(2);
  });
});
