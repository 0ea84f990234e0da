/**
 * What the mailbox tests share: a real SQLite file, a campaign sent to the local SMTP sink (with
 * VERP on), and a MailboxService over the same database whose classifier the test decides (the
 * messages are built as ClassifiedMessage values), beside the app's own (the real classifier).
 */
import { UnsubscribeKeys } from '../../../src/core/campaigns/unsubscribe-keys.js';
import type { AppEvent } from '../../../src/core/events.js';
import type { Services } from '../../../src/core/index.js';
import { complaintPauser } from '../../../src/core/mailbox/complaint-pause.js';
import { MailboxService, mailboxSettings } from '../../../src/core/mailbox/mailbox-service.js';
import type { BounceRecipient, ClassifiedMessage, MailboxRef } from '../../../src/core/mailbox/types.js';
import { sqliteStores } from '../../../src/db/sqlite/stores.js';
import { createLogger } from '../../../src/logger.js';
import { createMailer } from '../../../src/mail/index.js';
import { importText, memoryLog, testClock, testCore } from '../../helpers.js';
import { startSink } from '../../smtp-sink.js';

export const bounceAddress = 'bounces@coldbatch.test';

export type Kit = Awaited<ReturnType<typeof mailboxKit>>;

/** A core over a real file whose mail goes to a local SMTP sink, and a mailbox fed ClassifiedMessages. */
export async function mailboxKit(env: Record<string, string> = {}, mailto = 'sales@coldbatch.test') {
  const clock = testClock(Date.UTC(2026, 0, 14, 12)); // a Wednesday, 12:00 UTC
  const sink = await startSink();
  const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', log: createLogger('silent') });
  const core = testCore({ clock, mailer, env: { MAIL_BOUNCE_ADDRESS: bounceAddress, ...env } });
  const s: Services = core.services;
  const events: AppEvent[] = [];
  s.events.on((e) => events.push(e));
  const stores = sqliteStores(core.db);
  let next: ClassifiedMessage | null = null;
  const logs = memoryLog();
  const mailbox = new MailboxService(
    {
      ...core.deps,
      log: createLogger('info', logs.stream, { format: 'json' }),
      store: stores.mailbox,
      keys: new UnsubscribeKeys(stores.settings, undefined),
      campaigns: complaintPauser(s.campaigns.machine),
      classify: async () => {
        if (!next) throw new Error('no message given');
        return next;
      },
      emit: (e) => s.events.emit(e),
    },
    mailboxSettings(
      { unsubscribeMailto: mailto, from: 'Sales <sales@coldbatch.test>' },
      Number(env.SOFT_BOUNCE_LIMIT ?? 3),
    ),
  );
  let uid = 0;
  const sql = core.db.$client;
  return {
    clock,
    sink,
    core,
    s,
    events,
    sql,
    /** Processes a classified message as if read at the next UID (or at `ref`). */
    async read(m: ClassifiedMessage, ref?: MailboxRef) {
      next = m;
      return mailbox.process(
        ref ?? { mailbox: 'imap://bounces@mx.test:143/INBOX', uidValidity: '7', uid: ++uid },
        Buffer.from('x'),
      );
    },
    mailbox,
    /** The lines the test's mailbox logged. */
    logs: () => logs.lines(),
    /** Imports the CSV text and sends one campaign to all of it; its id. */
    async sendCampaign(csv: string, extra: Record<string, unknown> = {}) {
      await importText(s, csv);
      const c = await s.campaigns.create(
        { name: 'Intro', subject: 'Hi', body: 'Hello', sendAt: 'now', ...extra },
        'U1',
      );
      for (let i = 0; i < 50; i++) {
        await s.sending.runDue();
        const row = await s.campaigns.get(c.id);
        if (row.status !== 'sending') break;
        if (extra.dailyLimit !== undefined) break;
      }
      return c.id;
    },
    /** The ledger row of an address in a campaign. */
    send(campaignId: string, email: string) {
      return sql
        .prepare(
          `SELECT s.id, s.status, s.message_id AS messageId, s.replied_at AS repliedAt, s.complained_at AS complainedAt,
                  s.soft_bounced_at AS softBouncedAt, s.unsubscribed_at AS unsubscribedAt
           FROM sends s JOIN contacts c ON c.id = s.contact_id WHERE s.campaign_id = ? AND c.email = ?`,
        )
        .get(campaignId, email) as {
        id: number;
        status: string;
        messageId: string | null;
        repliedAt: number | null;
        complainedAt: number | null;
        softBouncedAt: number | null;
        unsubscribedAt: number | null;
      };
    },
    /** The envelope sender (VERP) and Message-ID the sink saw for an address. */
    sent(email: string) {
      const m = sink.received.find((r) => r.to === email);
      if (!m) throw new Error(`nothing was sent to ${email}`);
      return { verp: m.from, messageId: m.headers['message-id'] ?? '' };
    },
    contact(email: string) {
      return sql.prepare('SELECT id, status, interest FROM contacts WHERE email = ?').get(email) as {
        id: number;
        status: string;
        interest: string | null;
      };
    },
    suppression(email: string) {
      return (
        (sql
          .prepare(
            `SELECT reason FROM suppressions WHERE email_hash = (SELECT email_hash FROM contacts WHERE email = ?)`,
          )
          .get(email) as { reason: string } | undefined) ?? null
      );
    },
    history(email: string) {
      return sql
        .prepare(
          `SELECT from_status AS fromStatus, to_status AS toStatus, actor, reason FROM contact_history
           WHERE contact_id = (SELECT id FROM contacts WHERE email = ?) ORDER BY id`,
        )
        .all(email) as {
        fromStatus: string | null;
        toStatus: string;
        actor: string;
        reason: string | null;
      }[];
    },
    count(table: string) {
      return (sql.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    },
    async close() {
      await mailer.close();
      core.cleanup();
      await sink.close();
    },
  };
}

/** A classified message: an ordinary reply from nobody unless told otherwise. */
export function message(over: Partial<ClassifiedMessage> = {}): ClassifiedMessage {
  return {
    kind: 'reply',
    from: null,
    to: ['sales@coldbatch.test'],
    subject: 'Re: Hi',
    messageId: `<m${Math.random().toString(36).slice(2)}@mail.test>`,
    inReplyTo: null,
    references: [],
    date: null,
    originalMessageIds: [],
    originalSenders: [],
    text: '',
    asksRemoval: false,
    ...over,
  };
}

/** A failed recipient: hard (5.1.1 user unknown) or soft (4.2.2 mailbox full). */
export function recipient(email: string | null, hard: boolean): BounceRecipient {
  return hard
    ? {
        email,
        status: '5.1.1',
        permanent: true,
        hard: true,
        reason: 'userunknown',
        replyCode: '550',
        diagnostic: `550 5.1.1 <${email}>: Recipient address rejected: User unknown`,
      }
    : {
        email,
        status: '4.2.2',
        permanent: false,
        hard: false,
        reason: 'mailboxfull',
        replyCode: '452',
        diagnostic: '452 4.2.2 Mailbox full',
      };
}

/** A DSN sent to `to` (e.g. the VERP address) for these recipients. */
export function dsn(to: string[], recipients: BounceRecipient[], over: Partial<ClassifiedMessage> = {}) {
  return message({
    kind: 'bounce',
    from: 'mailer-daemon@mx.remote.test',
    to,
    subject: 'Undelivered Mail Returned to Sender',
    bounce: { recipients },
    ...over,
  });
}
