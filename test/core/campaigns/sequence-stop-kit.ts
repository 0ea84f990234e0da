/**
 * What the sequence-stop tests share: a core over a real SQLite file whose mail goes to the local
 * SMTP sink (VERP on; `reject` answers chosen addresses 550), a campaign sent for real, and its
 * people put in a sequence by writing `sequence_people` rows the way the engine does once step 1
 * is accepted (the schema is fixed: step 1 sent, step 2 due). Raw messages (a reply, a DSN, an
 * out-of-office, a complaint; test/mail/messages.ts) are built from what the sink received and go
 * through services.mailbox.process with the real classifier.
 */
import type { Services } from '../../../src/core/index.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, testClock, testCore } from '../../helpers.js';
import { hardBounce, header, softBounce } from '../../mail/messages.js';
import { type Received, startSink } from '../../smtp-sink.js';

export const day = 86_400_000;
export const bounceAddress = 'bounces@coldbatch.test';

export type SeqKit = Awaited<ReturnType<typeof sequenceKit>>;
export type PersonRow = {
  step: number;
  nextDueAt: number | null;
  stopReason: string | null;
  stoppedAt: number | null;
};

export async function sequenceKit(env: Record<string, string> = {}) {
  const clock = testClock(Date.UTC(2026, 0, 14, 12)); // a Wednesday, 12:00 UTC
  const rejected = new Set<string>();
  const sink = await startSink({ reject: (to) => (rejected.has(to) ? 550 : undefined) });
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  const core = testCore({ clock, mailer, env: { MAIL_BOUNCE_ADDRESS: bounceAddress, ...env } });
  const s: Services = core.services;
  const sql = core.db.$client;
  let uid = 0;
  const contactId = (email: string) =>
    (sql.prepare('SELECT id FROM contacts WHERE email = ?').get(email) as { id: number } | undefined)?.id ??
    0;
  const sent = (email: string, campaignId?: string): Received => {
    const all = sink.received.filter((r) => r.to === email);
    const m = campaignId ? (all.find((r) => r.raw.includes(campaignId)) ?? all.at(-1)) : all.at(-1);
    if (!m) throw new Error(`nothing was sent to ${email}`);
    return m;
  };
  return {
    clock,
    sink,
    core,
    s,
    sql,
    rejected,
    contactId,
    sent,
    /** Imports the CSV (when given) and sends a campaign to everyone in the audience; its id. */
    async sendCampaign(csv: string | null, extra: Record<string, unknown> = {}): Promise<string> {
      if (csv) await importText(s, csv);
      const c = await s.campaigns.create(
        {
          name: 'Intro',
          subject: 'Quick question',
          body: 'Hello {{unsubscribe_url}}',
          sendAt: 'now',
          ...extra,
        },
        'U1',
      );
      for (let i = 0; i < 20; i++) {
        await s.sending.runDue();
        if ((await s.campaigns.get(c.id)).status !== 'sending' || extra.dailyLimit !== undefined) break;
      }
      return c.id;
    },
    /**
     * Everyone the campaign's step 1 reached waits for step 2, due in `dueIn` (the engine's writes
     * once step 1 is accepted: step 1, next_due_at, last_send_id).
     */
    wait(campaignId: string, dueIn = 2 * day): number {
      return sql
        .prepare(
          `INSERT INTO sequence_people (campaign_id, contact_id, step, next_due_at, last_send_id, updated_at)
           SELECT campaign_id, contact_id, step, ?, id, ? FROM sends
           WHERE campaign_id = ? AND status = 'sent' AND contact_id IS NOT NULL`,
        )
        .run(clock.now() + dueIn, clock.now(), campaignId).changes;
    },
    /** A person's sequence_people row, or null. */
    person(campaignId: string, email: string): PersonRow | null {
      return (
        (sql
          .prepare(
            `SELECT step, next_due_at AS nextDueAt, stop_reason AS stopReason, stopped_at AS stoppedAt
             FROM sequence_people WHERE campaign_id = ? AND contact_id = ?`,
          )
          .get(campaignId, contactId(email)) as PersonRow | undefined) ?? null
      );
    },
    /** Stop reasons by address ('waiting' for a person still due), over every row of the campaign. */
    reasons(campaignId: string): Record<string, string> {
      const rows = sql
        .prepare(
          `SELECT c.email, sp.stop_reason AS reason, sp.next_due_at AS due FROM sequence_people sp
           JOIN contacts c ON c.id = sp.contact_id WHERE sp.campaign_id = ? ORDER BY c.email`,
        )
        .all(campaignId) as { email: string; reason: string | null; due: number | null }[];
      return Object.fromEntries(
        rows.map((r) => [r.email, r.reason ?? (r.due !== null ? 'waiting' : 'finished')]),
      );
    },
    /** Reads a raw message as the inbox reader hands it over (the app's MailboxService, the real classifier). */
    read(raw: string | Buffer) {
      return s.mailbox.process(
        { mailbox: 'imap://bounces@mx.test:143/INBOX', uidValidity: '7', uid: ++uid },
        Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'),
      );
    },
    async close() {
      await mailer.close();
      core.cleanup();
      await sink.close();
    },
  };
}

/** A human reply, an out-of-office answer and an ARF complaint about `original` (test/mail/messages.ts). */
export { arf, outOfOffice, reply } from '../../mail/messages.js';

/** A Postfix-style DSN for `original`, its headers quoted, to its VERP envelope sender: hard 5.1.1 or soft 4.2.2. */
export const dsn = (original: Received, hard: boolean): string =>
  (hard ? hardBounce : softBounce)(original, { quote: true });

/** The unsubscribe token of the List-Unsubscribe header `original` carried. */
export const unsubscribeToken = (original: Received): string =>
  /\/u\/([^>]+)>/.exec(header(original, 'list-unsubscribe'))?.[1] ?? '';
