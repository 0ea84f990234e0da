/**
 * The harness of the sequence end-to-end tests (issue 16): the real app on a real SQLite file, the
 * SMTP sink, MAIL_BOUNCE_ADDRESS (VERP), INBOX_URL at the IMAP server on loopback, Slack on the
 * stand-in Web API when asked, and the settable clock; a batch imported and campaigns created over
 * REST, sent by `services.sending.runDue()` as the scheduler would. Messages arriving in the mailbox
 * are built from what the sink received.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { expect } from 'vitest';
import { memoryLog, startTestApp, testClock, uploadCsv, waitFor } from '../helpers.js';
import { type ImapServer, imapPassword, imapUser } from '../mail/imap-server.js';
import * as messages from '../mail/messages.js';
import { header } from '../mail/messages.js';
import { type FakeSlack, signingSecret } from '../slack/fake-slack.js';
import type { Received, startSink } from '../smtp-sink.js';

export type Json = Record<string, unknown>;
export type Sink = Awaited<ReturnType<typeof startSink>>;
export type Clock = ReturnType<typeof testClock>;
export type Running = Awaited<ReturnType<typeof startTestApp>> & { log: ReturnType<typeof memoryLog> };

export const token = 'api-token-sequences-e2e-0123456789';
export const bounceAddress = 'bounces@coldbatch.test';
export const minute = 60_000;
export const hour = 60 * minute;
export const day = 24 * hour;

/** Mon–Fri, 09:00–17:00 in Berlin. */
export const berlinWeekdays = {
  days: [1, 2, 3, 4, 5],
  start: '09:00',
  end: '17:00',
  timezone: 'Europe/Berlin',
};

export const imapUrl = (s: ImapServer) =>
  `imap://${encodeURIComponent(imapUser)}:${encodeURIComponent(imapPassword)}@127.0.0.1:${s.port}/INBOX`;

/** The real app on `db` with the sink, the mailbox (optional), Slack (optional) and the clock. */
export async function boot(
  o: {
    db: string;
    sink: Sink;
    imap?: ImapServer;
    slack?: FakeSlack;
    clock: Clock;
    env?: Record<string, string>;
  },
  cleanups: (() => unknown)[],
): Promise<Running> {
  const log = memoryLog();
  const t = await startTestApp(
    {
      API_TOKEN: token,
      DATABASE_PATH: o.db,
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 1, São Paulo',
      SMTP_URL: o.sink.url,
      MAIL_BOUNCE_ADDRESS: bounceAddress,
      LOG_LEVEL: 'info',
      ...(o.imap ? { INBOX_URL: imapUrl(o.imap), INBOX_POLL: '1s' } : {}),
      ...(o.slack
        ? {
            SLACK_BOT_TOKEN: o.slack.botToken,
            SLACK_SIGNING_SECRET: signingSecret,
            SLACK_API_URL: o.slack.apiUrl,
            SLACK_ADMIN_USERS: 'UADMIN',
            SLACK_REPLIES_CHANNEL: 'CREPLIES',
          }
        : {}),
      ...o.env,
    },
    {
      slackRetries: 0,
      slackProgressIntervalMs: 0,
      scheduler: false,
      logDestination: log.stream,
      clock: o.clock,
    },
  );
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await t.stop();
  };
  cleanups.push(stop);
  return { ...t, log, stop };
}

/** A REST call with the API token; fails the test on another status than `status`. */
export async function api<T = Json>(
  t: Pick<Running, 'url'>,
  path: string,
  init: RequestInit = {},
  status = 200,
): Promise<T> {
  const res = await fetch(`${t.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const text = await res.text();
  expect(res.status, `${path}: ${text.slice(0, 500)}`).toBe(status);
  return JSON.parse(text) as T;
}

/** Imports `email,name` rows over REST (POST /contacts/import), activated. */
export async function importPeople(t: Pick<Running, 'url'>, people: string[], fileName = 'leads.csv') {
  const csv = `email,name\n${people.map((p) => `${p},${p.split('@')[0]}`).join('\n')}\n`;
  const up = await uploadCsv(t.url, csv, { fileName, headers: { authorization: `Bearer ${token}` } });
  expect(up.status, JSON.stringify(up.body)).toBe(201);
}

/** POST /campaigns; returns the campaign JSON. */
export async function createCampaign(t: Pick<Running, 'url'>, body: Json): Promise<Json & { id: string }> {
  const created = await api<{ campaign: Json & { id: string } }>(
    t,
    '/campaigns',
    { method: 'POST', body: JSON.stringify(body) },
    201,
  );
  return created.campaign;
}

export type Person = {
  contactId: number;
  email: string;
  state: string;
  step: number;
  nextDueAt?: string;
  stopReason?: string;
};

/** GET /campaigns/{id}/people (every page) in `state` when given. */
export async function peopleOf(t: Pick<Running, 'url'>, id: string, state?: string): Promise<Person[]> {
  const out: Person[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({
      limit: '500',
      ...(state ? { state } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const page: { people: Person[]; nextCursor: string | null } = await api(
      t,
      `/campaigns/${id}/people?${q}`,
    );
    out.push(...page.people);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** GET /campaigns/{id}. */
export async function campaignOf(t: Pick<Running, 'url'>, id: string): Promise<Json> {
  return (await api<{ campaign: Json }>(t, `/campaigns/${id}`)).campaign;
}

// ---------------------------------------------------------------------------------------------
// What the sink received.

export { header };
/** The step a message is: its body carries `step-N` (the tests' bodies say so). */
export const stepOf = (m: Received) => Number(/step-(\d)/.exec(m.body)?.[1] ?? 0);
/** The messages of one step, by recipient. */
export const byRecipient = (ms: Received[], step: number) =>
  new Map(ms.filter((m) => stepOf(m) === step).map((m) => [m.to, m]));

/** Every (recipient, step) received at most once. */
export function expectNoDoubles(received: Received[]): void {
  const keys = received.map((m) => `${m.to} step ${stepOf(m)}`);
  const doubles = keys.filter((k, i) => keys.indexOf(k) !== i);
  expect(doubles, 'a person got a step twice').toEqual([]);
}

/** The ledger has one row at most per (campaign, contact, step). */
export function expectLedgerUnique(t: Pick<Running, 'app'>, campaignId: string): void {
  const dup = t.app.db.$client
    .prepare(
      `SELECT contact_id, step, count(*) AS n FROM sends WHERE campaign_id = ?
       GROUP BY contact_id, step HAVING count(*) > 1`,
    )
    .all(campaignId);
  expect(dup).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Messages as real senders write them (test/mail/messages.ts): a reply, a hard bounce to the VERP
// envelope sender (its headers not quoted) and an out-of-office answer in German.

export { hardBounce, reply } from '../mail/messages.js';

/** An out-of-office answer (RFC 3834 Auto-Submitted) to `original`, in German. */
export const outOfOffice = (original: Received): Buffer => messages.outOfOffice(original, { language: 'de' });

/** The one-click unsubscribe URL of a message (its List-Unsubscribe https link), on the app's own address. */
export function oneClickUrl(t: Pick<Running, 'url'>, m: Received): string {
  const link = /<(https:\/\/[^>]+)>/.exec(header(m, 'list-unsubscribe'))?.[1];
  expect(link, 'List-Unsubscribe has an https link').toBeDefined();
  const u = new URL(link!);
  return `${t.url}${u.pathname}${u.search}`;
}

/** The local weekday (0 = Sunday) and HH:MM of an instant in Berlin. */
export function berlin(ms: number): { weekday: number; hhmm: string; date: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(String(parts.weekday));
  return {
    weekday,
    hhmm: `${parts.hour}:${parts.minute}`,
    date: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

export { testClock };

export type StepJson = { index: number; counts: Json; variants?: { index: number; counts: Json }[] };

/**
 * GET /campaigns/{id}'s steps once `ready` holds for them: the figures are counted off the main
 * thread and may be answered a moment stale (refreshed in the background), so wait for them.
 */
export async function stepsWhen(
  t: Pick<Running, 'url'>,
  id: string,
  ready: (steps: StepJson[]) => boolean,
  timeoutMs = 10_000,
): Promise<StepJson[]> {
  let last: StepJson[] = [];
  try {
    return await waitFor(async () => {
      last = (await campaignOf(t, id)).steps as StepJson[];
      return ready(last) ? last : null;
    }, timeoutMs);
  } catch {
    return last; // the caller's assertions say what differs
  }
}

/** Unfolds and parses the header block of a raw message (as test/smtp-sink.ts does). */
function parseRaw(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body: raw.slice(split + 4) };
}

/**
 * A relay on loopback that can hold its answer to DATA: `arrived` has each message as soon as the
 * relay has it (the recipient may read it), `received` once it answered 250 (the app may mark it
 * sent). `hold()` keeps the answers back until `release()`.
 */
export async function startGatedSink() {
  const arrived: Received[] = [];
  const received: Received[] = [];
  let holding = false;
  const held: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(parts).toString('utf8');
        const ms = session.envelope.rcptTo.map((r) => ({
          to: r.address.toLowerCase(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          raw,
          ...parseRaw(raw),
        }));
        arrived.push(...ms);
        const answer = () => {
          received.push(...ms);
          cb();
        };
        if (holding) held.push(answer);
        else answer();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    arrived,
    received,
    url: `smtp://127.0.0.1:${port}`,
    port,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const answer of held.splice(0)) answer();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
