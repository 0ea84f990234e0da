import type {
  ContactSequenceRow,
  SequencePersonRow,
  SequencePersonState,
  SequenceStopOutcome,
  SequenceStore,
} from '../../core/campaigns/sequence-store.js';
import type { SequenceStopReason } from '../../core/vocabulary.js';
import { inTransaction, type PgDb, type PgExec, row, rows } from './client.js';
import { stopSequences } from './sequence-rows.js';

type Row = {
  campaign_id: string;
  contact_id: number;
  email: string;
  state: SequencePersonState;
  step: number;
  in_flight: boolean;
  next_due_at: number | null;
  stop_reason: SequenceStopReason | null;
  stopped_at: number | null;
};

/**
 * One person per step-1 ledger row of the campaign (`s`), with their sequence_people row (`sp`, none
 * for a one-step campaign or before step 1 was taken) and the ledger row of their last step (`ls`).
 * A claimed or retrying last row is a step in flight: waiting, not yet sent. (SQLite's 0/1 of a
 * one-step person's step is a boolean here: cast to a number.)
 */
const personSelect = `
  SELECT s.campaign_id, s.contact_id, c.email, sp.next_due_at, sp.stop_reason, sp.stopped_at,
    coalesce(ls.status, CASE WHEN sp.campaign_id IS NULL THEN s.status END) IN ('claimed', 'retry') IS TRUE AS in_flight,
    CASE
      WHEN sp.stop_reason IS NOT NULL THEN 'stopped'
      WHEN sp.next_due_at IS NOT NULL THEN 'waiting'
      WHEN coalesce(ls.status, CASE WHEN sp.campaign_id IS NULL THEN s.status END) IN ('claimed', 'retry')
        THEN 'waiting'
      ELSE 'finished'
    END AS state,
    CASE
      WHEN sp.campaign_id IS NULL THEN (s.status IN ('sent', 'bounced'))::int
      WHEN ls.status IS NULL OR ls.status IN ('sent', 'bounced') THEN sp.step
      ELSE sp.step - 1
    END AS step
  FROM sends s
  JOIN contacts c ON c.id = s.contact_id
  LEFT JOIN sequence_people sp ON sp.campaign_id = s.campaign_id AND sp.contact_id = s.contact_id
  LEFT JOIN sends ls ON ls.id = sp.last_send_id`;

const oneSql = `${personSelect} WHERE s.campaign_id = $1 AND s.contact_id = $2 AND s.step = 1`;

const toPerson = (r: Row): SequencePersonRow => ({
  campaignId: r.campaign_id,
  contactId: r.contact_id,
  email: r.email,
  state: r.state,
  step: r.step,
  inFlight: r.in_flight,
  nextDueAt: r.next_due_at,
  stopReason: r.stop_reason,
  stoppedAt: r.stopped_at,
});

/** The people of campaigns' sequences over Postgres. */
export class PgSequenceStore implements SequenceStore {
  constructor(private readonly db: PgDb) {}

  async people(
    campaignId: string,
    q: { state?: SequencePersonState | undefined; afterContactId: number; limit: number },
  ): Promise<SequencePersonRow[]> {
    // By contact id over sends_campaign_contact_step (campaign_id, contact_id, step).
    const found = await rows<Row>(
      this.db.$client,
      `SELECT * FROM (${personSelect} WHERE s.campaign_id = $1 AND s.step = 1 AND s.contact_id > $2) p
       WHERE ($3::text IS NULL OR state = $3) ORDER BY contact_id LIMIT $4`,
      [campaignId, q.afterContactId, q.state ?? null, q.limit],
    );
    return found.map(toPerson);
  }

  async person(campaignId: string, contactId: number): Promise<SequencePersonRow | null> {
    const found = await row<Row>(this.db.$client, oneSql, [campaignId, contactId]);
    return found ? toPerson(found) : null;
  }

  async ofContact(contactId: number, limit: number): Promise<ContactSequenceRow[]> {
    // Campaign ids compare as bytes, as in SQLite (COLLATE "C"), for the same order on a tie.
    const found = await rows<Row & { campaign_name: string }>(
      this.db.$client,
      `SELECT p.*, cp.name AS campaign_name FROM (${personSelect}
         WHERE s.contact_id = $1 AND s.step = 1
           AND s.campaign_id IN (SELECT campaign_id FROM sequence_people WHERE contact_id = s.contact_id)) p
       JOIN campaigns cp ON cp.id = p.campaign_id
       ORDER BY cp.created_at DESC, cp.id COLLATE "C" DESC LIMIT $2`,
      [contactId, limit],
    );
    return found.map((r) => ({ ...toPerson(r), campaignName: r.campaign_name }));
  }

  async stop(campaignId: string, contactId: number, at: number): Promise<SequenceStopOutcome> {
    return inTransaction(this.db.$client, async (tx): Promise<SequenceStopOutcome> => {
      const before = await one(tx, campaignId, contactId);
      if (!before) return { kind: 'missing' };
      // Nothing changes for a stopped or finished person, nor before step 1 is sent (no row yet).
      if ((await stopSequences(tx, { campaignId, contactId }, 'stopped', at)) === 0)
        return { kind: 'not_waiting', person: toPerson(before) };
      return { kind: 'stopped', person: toPerson((await one(tx, campaignId, contactId))!) };
    });
  }
}

async function one(exec: PgExec, campaignId: string, contactId: number): Promise<Row | undefined> {
  return row<Row>(exec, oneSql, [campaignId, contactId]);
}
