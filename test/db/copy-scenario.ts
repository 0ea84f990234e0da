/**
 * A SQLite database with real data in every table, made through the services (imports, a sequence
 * campaign sent to the outbox, an unsubscribe, suppressions, a domain rule, a scheduled activation)
 * plus a few rows written directly for what only the mailbox, the webhooks or Slack would write.
 * For the db:copy tests (test/db/copy-to-pg.test.ts, test/cli/db-copy.test.ts).
 */
import { join } from 'node:path';
import type { Sqlite } from '../../src/db/client.js';
import { copyPlan } from '../../src/db/copy-plan.js';
import type { PgExec } from '../../src/db/pg/client.js';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { importText, testClock, testCore } from '../helpers.js';

const day = 86_400_000;

export type Scenario = Awaited<ReturnType<typeof buildScenario>>;

export async function buildScenario() {
  const clock = testClock(Date.UTC(2026, 0, 13, 10));
  const core = testCore({ clock });
  const s = core.services;
  const sqlite = core.db.$client;
  const idOf = (email: string) =>
    (sqlite.prepare('SELECT id FROM contacts WHERE email = ?').get(email) as { id: number }).id;

  const old = await importText(s, 'email,name\nold1@x.com,Old One\nold2@x.com,Old Two\n', {
    fileName: 'old.csv',
  });
  clock.advance(60_000);
  const fresh = await importText(
    s,
    'email,name,company,position\nana@acme.com,Ana,Acme,CEO\nbruno@acme.com,Bruno,Acme,\n' +
      'carla@beta.io,Carla,Beta,\ndan@gamma.org,Dan,Gamma,\nerin@gamma.org,Erin "E",,\nfrank@delta.net,Frank,,\n',
    { fileName: 'leads.csv' },
  );
  if (old.kind !== 'imported' || fresh.kind !== 'imported') throw new Error('import failed');
  const batchId = fresh.batch.id;
  await s.batches.setIncludeInvalidDomains(batchId, true, 'U1');
  await s.scheduledActivations.schedule(old.batch.id, clock.now() + 7 * day, 'U1');
  await s.domainSuppressions.add({ pattern: 'beta.io', reason: 'competitor' }, 'U1');
  await s.contacts.setStatus(idOf('dan@gamma.org'), 'bounced', 'U1', 'bounced by phone');
  // The highest id goes: the Postgres sequence must still not hand it out again.
  const deletedId = idOf('frank@delta.net');
  await s.contacts.delete(deletedId, 'U1', 'asked to be forgotten');

  const campaign = await s.campaigns.create(
    {
      name: 'Intro',
      sendAt: 'now',
      steps: [
        { subject: 'Hello {{name}}', body: 'Hi {{name}}, {{unsubscribe_url}}' },
        { body: 'Following up', delayDays: 2 },
      ],
    },
    'U1',
  );
  for (let i = 0; i < 5; i++) await s.sending.runDue();
  const draft = await s.campaigns.create({ name: 'Draft', subject: 's', body: 'b' }, 'U2');

  const key = (
    sqlite.prepare(`SELECT value FROM settings WHERE key = 'unsubscribe_secret'`).get() as {
      value: string;
    }
  ).value;
  const sendOf = (email: string) =>
    (sqlite.prepare('SELECT id FROM sends WHERE contact_id = ?').get(idOf(email)) as { id: number }).id;
  // Bruno unsubscribes through his link; Ana's link stays unused (it must work after the copy).
  if (!(await s.unsubscribe.unsubscribe(signUnsubscribeToken(sendOf('bruno@acme.com'), key))))
    throw new Error('unsubscribe failed');
  const anaToken = signUnsubscribeToken(sendOf('ana@acme.com'), key);

  // What the mailbox, the webhooks, Slack files, retention, validation and SMTP identities write.
  const at = clock.now();
  const ana = idOf('ana@acme.com');
  const anaSend = sendOf('ana@acme.com');
  sqlite.exec(`
    INSERT INTO inbox_messages (mailbox, uid_validity, uid, kind, from_address, subject, message_id, received_at,
      send_id, campaign_id, contact_id, snippet, details, unsubscribed, processed_at)
    VALUES ('imap://u@h:993/INBOX', '7', 42, 'reply', 'ana@acme.com', 'Re: Hello', '<r1@acme.com>', ${at},
      ${anaSend}, '${campaign.id}', ${ana}, 'Please remove me', '{"why":"test"}', 1, ${at});
    INSERT INTO inbox_bounces (message_id, email, status, permanent, hard, reason, send_id, at)
    VALUES ((SELECT max(id) FROM inbox_messages), 'ana@acme.com', '4.2.2', 1, 0, 'mailbox full', ${anaSend}, ${at});
    INSERT INTO webhook_deliveries (event, url, payload, state, attempts, next_attempt_at, created_at)
    VALUES ('contact.unsubscribed', 'https://hooks.test/x', '{"email":"bruno@acme.com"}', 'pending', 1, ${at + 60_000}, ${at});
    INSERT INTO smtp_accounts (key, first_used_at, consecutive_failures) VALUES ('smtp.test:587:sales', ${at}, 0);
    INSERT INTO processed_events (event_id, at) VALUES ('Ev1', ${at});
    INSERT INTO file_imports (external_id, state, batch_id, actor, reply_to, created_at, updated_at)
    VALUES ('slack:F1', 'imported', '${batchId}', 'U1', '{"channel":"C1"}', ${at}, ${at});
    INSERT INTO retention_proposals (batch_id, proposed_at) VALUES ('${old.batch.id}', ${at});
    INSERT INTO validation_runs (id, batch_id, seq, actor, status, started_at, ended_at, after_id, checked, valid)
    VALUES ('vr1', '${batchId}', 1, 'U1', 'finished', ${at}, ${at + 1000}, ${ana}, 4, 4);
    UPDATE campaigns SET awaiting_confirmation = 1 WHERE id = '${draft.id}';
  `);
  return {
    core,
    clock,
    services: s,
    sqlite,
    batchId,
    oldBatchId: old.batch.id,
    campaignId: campaign.id,
    draftId: draft.id,
    deletedId,
    anaToken,
    unsubscribeKey: key,
    contactIds: (sqlite.prepare('SELECT id FROM contacts ORDER BY id').pluck().all() as number[]).concat(
      deletedId,
    ),
    outbox: join(core.path, '..', 'outbox'),
  };
}

/** A value as both databases mean it: 0/1 of a boolean column as a boolean, a blob as hex. */
function normal(type: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'boolean') return v === true || v === 1;
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  return v;
}

/** Every row of every table, normalized and sorted, from SQLite. */
export function sqliteRows(sqlite: Sqlite): Record<string, string[]> {
  return Object.fromEntries(
    copyPlan().tables.map((t) => {
      const rows = sqlite.prepare(`SELECT * FROM "${t.name}"`).all() as Record<string, unknown>[];
      return [
        t.name,
        rows.map((r) => JSON.stringify(t.columns.map((c) => normal(c.type, r[c.name])))).sort(),
      ];
    }),
  );
}

/** Every row of every table, normalized and sorted, from Postgres. */
export async function pgRows(exec: PgExec): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of copyPlan().tables) {
    const { rows } = await exec.query(`SELECT * FROM "${t.name}"`);
    out[t.name] = (rows as Record<string, unknown>[])
      .map((r) => JSON.stringify(t.columns.map((c) => normal(c.type, r[c.name]))))
      .sort();
  }
  return out;
}

/** Rows per table. */
export function countsOf(all: Record<string, string[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(all).map(([t, rows]) => [t, rows.length]));
}
