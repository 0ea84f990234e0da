import type {
  ContactSequenceRow,
  SequencePersonRow,
  SequencePersonState,
  SequenceStopOutcome,
  SequenceStore,
} from '../../core/campaigns/sequence-store.js';
import type { SequenceStopReason } from '../../core/vocabulary.js';
import type { Db } from '../client.js';
import { stopSequences } from './sequence-rows.js';

type Row = {
  campaign_id: string;
  contact_id: number;
  email: string;
  state: SequencePersonState;
  step: number;
  in_flight: number;
  next_due_at: number | null;
  stop_reason: SequenceStopReason | null;
  stopped_at: number | null;
};

/**
 * One person per step-1 ledger row of the campaign (`s`), with their sequence_people row (`sp`, none
 * for a one-step campaign or before step 1 was taken) and the ledger row of their last step (`ls`).
 * A claimed or retrying last row is a step in flight: waiting, not yet sent.
 */
const personSelect = `
  SELECT s.campaign_id, s.contact_id, c.email, sp.next_due_at, sp.stop_reason, sp.stopped_at,
    coalesce(ls.status, CASE WHEN sp.campaign_id IS NULL THEN s.status END) IN ('claimed', 'retry') AS in_flight,
    CASE
      WHEN sp.stop_reason IS NOT NULL THEN 'stopped'
      WHEN sp.next_due_at IS NOT NULL THEN 'waiting'
      WHEN coalesce(ls.status, CASE WHEN sp.campaign_id IS NULL THEN s.status END) IN ('claimed', 'retry')
        THEN 'waiting'
      ELSE 'finished'
    END AS state,
    CASE
      WHEN sp.campaign_id IS NULL THEN s.status IN ('sent', 'bounced')
      WHEN ls.status IS NULL OR ls.status IN ('sent', 'bounced') THEN sp.step
      ELSE sp.step - 1
    END AS step
  FROM sends s
  JOIN contacts c ON c.id = s.contact_id
  LEFT JOIN sequence_people sp ON sp.campaign_id = s.campaign_id AND sp.contact_id = s.contact_id
  LEFT JOIN sends ls ON ls.id = sp.last_send_id`;

const toPerson = (r: Row): SequencePersonRow => ({
  campaignId: r.campaign_id,
  contactId: r.contact_id,
  email: r.email,
  state: r.state,
  step: r.step,
  inFlight: r.in_flight === 1,
  nextDueAt: r.next_due_at,
  stopReason: r.stop_reason,
  stoppedAt: r.stopped_at,
});

/** The people of campaigns' sequences over SQLite: statements prepared once. */
export class SqliteSequenceStore implements SequenceStore {
  private readonly s;
  constructor(private readonly db: Db) {
    const c = db.$client;
    this.s = {
      // By contact id over sends_campaign_contact_step (campaign_id, contact_id, step).
      page: c.prepare<[string, number, string | null, string | null, number], Row>(
        `SELECT * FROM (${personSelect} WHERE s.campaign_id = ? AND s.step = 1 AND s.contact_id > ?)
         WHERE (? IS NULL OR state = ?) ORDER BY contact_id LIMIT ?`,
      ),
      one: c.prepare<[string, number], Row>(
        `${personSelect} WHERE s.campaign_id = ? AND s.contact_id = ? AND s.step = 1`,
      ),
      ofContact: c.prepare<[number, number], Row & { campaign_name: string }>(
        `SELECT p.*, cp.name AS campaign_name FROM (${personSelect}
           WHERE s.contact_id = ? AND s.step = 1
             AND s.campaign_id IN (SELECT campaign_id FROM sequence_people WHERE contact_id = s.contact_id)) p
         JOIN campaigns cp ON cp.id = p.campaign_id
         ORDER BY cp.created_at DESC, cp.id DESC LIMIT ?`,
      ),
    };
  }

  async people(
    campaignId: string,
    q: { state?: SequencePersonState | undefined; afterContactId: number; limit: number },
  ): Promise<SequencePersonRow[]> {
    const state = q.state ?? null;
    return this.s.page.all(campaignId, q.afterContactId, state, state, q.limit).map(toPerson);
  }

  async person(campaignId: string, contactId: number): Promise<SequencePersonRow | null> {
    const row = this.s.one.get(campaignId, contactId);
    return row ? toPerson(row) : null;
  }

  async ofContact(contactId: number, limit: number): Promise<ContactSequenceRow[]> {
    return this.s.ofContact
      .all(contactId, limit)
      .map((r) => ({ ...toPerson(r), campaignName: r.campaign_name }));
  }

  async stop(campaignId: string, contactId: number, at: number): Promise<SequenceStopOutcome> {
    return this.db.transaction((tx): SequenceStopOutcome => {
      const before = this.s.one.get(campaignId, contactId);
      if (!before) return { kind: 'missing' };
      // Nothing changes for a stopped or finished person, nor before step 1 is sent (no row yet).
      if (stopSequences(tx, { campaignId, contactId }, 'stopped', at) === 0)
        return { kind: 'not_waiting', person: toPerson(before) };
      return { kind: 'stopped', person: toPerson(this.s.one.get(campaignId, contactId)!) };
    });
  }
}
