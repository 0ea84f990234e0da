/**
 * The inbox case (issue 15): 10,000 queued messages read from IMAP, processed at ≥ 500 messages/s
 * (parse + match + update), the event loop never blocked > 100 ms. A campaign is first sent to the
 * sink; then a realistic mix addressed to its sends (bounces from the Sisimai corpus in
 * test/fixtures/corpora/bounces delivered to the sends' VERP addresses, its complaints,
 * auto-replies and ordinary mail, plus human replies and out-of-office answers with In-Reply-To)
 * is appended at once to a loopback IMAP server (hoodiecrow-imap, its own process) the server
 * reads through INBOX_URL. Timed from the first append to the last row's processed_at. The same
 * messages are then handed to services.mailbox.process in a process of their own (inbox-process.ts,
 * on a copy of the database taken before the mailbox was read): the product without IMAP.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { imapPassword, imapUser } from '../../test/mail/imap-server.js';
import { copyDb } from './data.js';
import { freshDir } from './dirs.js';
import { dropDb } from './imports.js';
import type { Sink } from './mail.js';
import { type ProbeWindow, readProbe, repoRoot, type Server, startServer } from './procs.js';
import { addSendBatch, sendCampaign } from './sends.js';

const corpusDir = join(repoRoot, 'test', 'fixtures', 'corpora', 'bounces');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const inboxBounceAddress = 'bounces@bench.example.com';

/** The IMAP server process: its port, and the IPC the case drives it with. */
export type ImapProc = {
  port: number;
  url: string;
  load: (dir: string) => Promise<number>;
  append: () => Promise<{ appended: number; first: number; last: number }>;
  count: () => Promise<{ count: number; flagged: number }>;
  close: () => Promise<void>;
};

export async function startImap(): Promise<ImapProc> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'imap-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = Number(
    await new Promise<string>((resolve) => child.stdout?.once('data', (d) => resolve(String(d).trim()))),
  );
  const ask = async <T>(m: unknown): Promise<T> => {
    const reply = once(child, 'message');
    child.send(m as string);
    return (await reply)[0] as T;
  };
  const user = encodeURIComponent(imapUser);
  const password = encodeURIComponent(imapPassword);
  return {
    port,
    url: `imap://${user}:${password}@127.0.0.1:${port}/INBOX`,
    load: async (dir) => (await ask<{ loaded: number }>({ load: dir })).loaded,
    append: () => ask('append'),
    count: () => ask('count'),
    close: async () => {
      const gone = once(child, 'exit');
      child.disconnect();
      await gone;
    },
  };
}

type Send = { id: number; messageId: string; email: string; name: string | null };

/** The sends of a campaign (read from the database file the server writes). */
export function sendsOf(db: string, campaignId: string): Send[] {
  const sqlite = new Database(db, { readonly: true });
  try {
    return sqlite
      .prepare(
        `SELECT s.id AS id, s.message_id AS messageId, c.email AS email, c.name AS name
         FROM sends s JOIN contacts c ON c.id = s.contact_id
         WHERE s.campaign_id = ? AND s.message_id IS NOT NULL ORDER BY s.id`,
      )
      .all(campaignId) as Send[];
  } finally {
    sqlite.close();
  }
}

/** The VERP envelope sender of a send: its Message-ID's tag at the bounce address (send-ref.ts's shape). */
function verpOf(s: Send): string {
  const tag = /^<(cb\.[0-9a-z]+\.[A-Za-z0-9_-]+)@/.exec(s.messageId)?.[1];
  if (!tag) throw new Error(`send ${s.id} has no tagged Message-ID: ${s.messageId}`);
  const [local, domain] = inboxBounceAddress.split('@');
  return `${local}+${tag}@${domain}`;
}

type CorpusFile = { file: string };
function corpusFiles(): Record<'cases' | 'complaints' | 'other', Buffer[]> {
  const expected = JSON.parse(readFileSync(join(corpusDir, 'expected.json'), 'utf8')) as Record<
    string,
    (CorpusFile | string)[]
  >;
  const read = (list: (CorpusFile | string)[] | undefined) =>
    (list ?? []).map((e) => readFileSync(join(corpusDir, typeof e === 'string' ? e : e.file)));
  return {
    cases: read(expected.cases),
    complaints: read(expected.complaints),
    other: [...read(expected.autoReplies), ...read(expected.deliveryReports), ...read(expected.notBounces)],
  };
}

const lines = (l: string[]) => Buffer.from(`${l.join('\r\n')}\r\n`, 'utf8');

function humanReply(s: Send, i: number): Buffer {
  const first = (s.name ?? 'Lead').split(' ')[0];
  const text = [
    `Hi Sam, thanks for reaching out. ${i % 7 === 0 ? 'Please remove me from your list.' : 'Could we talk next week? Tuesday at 10 works for me.'}`,
    '',
    `Best, ${first}`,
  ];
  return lines([
    `From: ${first} <${s.email}>`,
    'To: Sales <sales@bench.example.com>',
    'Subject: Re: Quick question',
    `Message-ID: <reply-${i}@mail.example.net>`,
    `In-Reply-To: ${s.messageId}`,
    `References: ${s.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    ...text,
    '',
    'On Mon, 7 Dec 2026 at 09:00, Sales <sales@bench.example.com> wrote:',
    `> Hi ${first},`,
    '> A short note about your work at your company.',
    '> Best, Sam',
    '',
  ]);
}

function outOfOffice(s: Send, i: number): Buffer {
  const pt = i % 2 === 0;
  return lines([
    `From: <${s.email}>`,
    'To: Sales <sales@bench.example.com>',
    `Subject: ${pt ? 'Resposta automática: Ausente do escritório' : 'Automatic reply: Out of office'}`,
    `Message-ID: <ooo-${i}@mail.example.net>`,
    `In-Reply-To: ${s.messageId}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    pt
      ? 'Estou fora do escritório até 20 de janeiro, com acesso limitado ao e-mail.'
      : 'I am out of the office until January 20 with limited access to e-mail.',
    '',
  ]);
}

/**
 * Writes `n` messages (0000001.eml…) for the sends into `dir`: 55 % bounces (the corpus's cases,
 * in turn), 5 % complaints, 3 % the corpus's auto-replies, success reports and ordinary mail
 * (each of these delivered to a send's VERP address: a Delivered-To line on top, as the local
 * delivery agent writes it), 25 % human replies, 12 % out-of-office answers. Returns the mix.
 */
export function writeInboxMessages(dir: string, sends: Send[], n: number): Record<string, number> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const corpus = corpusFiles();
  const mix: Record<string, number> = {};
  const counters = { cases: 0, complaints: 0, other: 0 };
  for (let i = 0; i < n; i++) {
    const s = sends[(i * 7919) % sends.length]!;
    const slot = i % 100;
    const group =
      slot < 55 ? 'cases' : slot < 60 ? 'complaints' : slot < 63 ? 'other' : slot < 88 ? 'reply' : 'ooo';
    let raw: Buffer;
    if (group === 'reply') raw = humanReply(s, i);
    else if (group === 'ooo') raw = outOfOffice(s, i);
    else {
      const list = corpus[group];
      const file = list[counters[group]++ % list.length]!;
      const eol = file.includes('\r\n') ? '\r\n' : '\n';
      raw = Buffer.concat([Buffer.from(`Delivered-To: ${verpOf(s)}${eol}`), file]);
    }
    mix[group] = (mix[group] ?? 0) + 1;
    writeFileSync(join(dir, `${String(i).padStart(7, '0')}.eml`), raw);
  }
  return mix;
}

/** What the server's database holds of the inbox: rows, kinds, matched, the last processed_at. */
export function inboxRows(db: string) {
  const sqlite = new Database(db, { readonly: true });
  try {
    const total = sqlite
      .prepare(
        'SELECT count(*) AS n, max(processed_at) AS last, sum(send_id IS NOT NULL) AS matched FROM inbox_messages',
      )
      .get() as { n: number; last: number | null; matched: number | null };
    const kinds = sqlite.prepare('SELECT kind, count(*) AS n FROM inbox_messages GROUP BY kind').all() as {
      kind: string;
      n: number;
    }[];
    return { ...total, kinds: Object.fromEntries(kinds.map((k) => [k.kind, k.n])) };
  } finally {
    sqlite.close();
  }
}

/**
 * Appends the loaded messages at once and waits (polling GET /inbox/messages?limit=1 every
 * 100 ms: the newest row's id is the count in a fresh mailbox) until `n` were processed.
 */
export async function readInbox(server: Server, imap: ImapProc, db: string, n: number) {
  const appended = await imap.append();
  const deadline = performance.now() + 120_000 + n * 10;
  for (;;) {
    const res = await server.api('/inbox/messages?limit=1');
    const body = (await res.json()) as { messages: { id: number }[] };
    if (!res.ok) throw new Error(`GET /inbox/messages answered ${res.status}`);
    if ((body.messages[0]?.id ?? 0) >= n) break;
    if (performance.now() > deadline)
      throw new Error(`only ${body.messages[0]?.id ?? 0} of ${n} processed in time`);
    await sleep(100);
  }
  const rows = inboxRows(db);
  if (rows.n !== n || rows.last === null) throw new Error(`expected ${n} inbox rows, found ${rows.n}`);
  const ms = rows.last - appended.first;
  await sleep(400); // the probe's line for the window's end
  const probe: ProbeWindow = readProbe(server.probeOut, appended.first, rows.last);
  return { rate: n / (ms / 1000), ms, appendMs: appended.last - appended.first, rows, probe };
}

/** services.mailbox.process over the same messages on `db`, in a process of its own (inbox-process.ts). */
export async function processInProcess(
  db: string,
  dir: string,
  env: Record<string, string>,
): Promise<{
  rate: number;
  ms: number;
  maxBlockMs: number;
  slowestMs: number;
  slowest: string;
  processed: number;
}> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'inbox-process.ts'), db, dir],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`inbox-process exited ${code}: ${out.slice(-1000)}`);
  const last = out.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(last) as {
    rate: number;
    ms: number;
    maxBlockMs: number;
    slowestMs: number;
    slowest: string;
    processed: number;
  };
}

/** One run of the inbox case: figures of the server (through IMAP) and of the in-process service. */
export async function runInboxCase(o: {
  template: string;
  run: number;
  env: Record<string, string>;
  sink: Sink;
  messages: number;
  sends: number;
}) {
  // Its own folder (bench/.data/users/inbox): another bench started meanwhile empties `run/`.
  const dir = freshDir('inbox');
  const db = copyDb(o.template, join(dir, 'inbox.db'));
  addSendBatch(db, o.sends);
  const imap = await startImap();
  const env = { ...o.env, MAIL_BOUNCE_ADDRESS: inboxBounceAddress, INBOX_URL: imap.url, INBOX_POLL: '60s' };
  const emlDir = join(dir, 'eml');
  const snapshot = join(dir, 'inbox-before.db');
  try {
    const server = await startServer({ db, dir, name: `inbox-${o.run}`, env });
    let read: Awaited<ReturnType<typeof readInbox>>;
    let mix: Record<string, number>;
    try {
      // Sent first to the sink: the messages answer real sends (their Message-IDs and VERP addresses).
      const s = await sendCampaign(server, o.sink, o.sends);
      if (s.sent !== o.sends) throw new Error(`sent ${s.sent} of ${o.sends}`);
      const campaignId = campaignOf(db);
      mix = writeInboxMessages(emlDir, sendsOf(db, campaignId), o.messages);
      for (const f of [snapshot, `${snapshot}-wal`, `${snapshot}-shm`]) rmSync(f, { force: true });
      const live = new Database(db, { readonly: true });
      await live.backup(snapshot);
      live.close();
      if ((await imap.load(emlDir)) !== o.messages)
        throw new Error('the IMAP server did not load every message');
      read = await readInbox(server, imap, db, o.messages);
      const flagged = await imap.count();
      if (flagged.flagged !== o.messages) await sleep(1000); // the last STORE may still be on its way
    } finally {
      await server.stop();
      dropDb(db);
    }
    // As the reader hands them over today (chunks of 50 back to back), then with the event loop
    // turning after every message (what a yield in the read pass would give), each on a fresh copy.
    const copy = join(dir, 'inbox-copy.db');
    copyDb(snapshot, copy);
    const inProcess = await processInProcess(snapshot, emlDir, env);
    const perMessage = await processInProcess(copy, emlDir, { ...env, INBOX_BENCH_CHUNK: '1' });
    dropDb(copy);
    for (const p of [inProcess, perMessage])
      if (p.processed !== o.messages)
        throw new Error(`in process: ${p.processed} of ${o.messages} processed`);
    return { ...read, mix, inProcess, perMessage };
  } finally {
    await imap.close();
    dropDb(snapshot);
  }
}

/** The one campaign of the case's database. */
function campaignOf(db: string): string {
  const sqlite = new Database(db, { readonly: true });
  try {
    const row = sqlite.prepare('SELECT id FROM campaigns ORDER BY created_at DESC LIMIT 1').get() as
      | { id: string }
      | undefined;
    if (!row) throw new Error('no campaign');
    return row.id;
  } finally {
    sqlite.close();
  }
}
