import type { Logger } from '../../logger.js';
import type { CampaignStateMachine } from '../campaigns/state-machine.js';
import { type CampaignEvent, mailUnreachableNotice } from './engine-types.js';

/**
 * What the engine knows about the mail server being unreachable. In memory: pacing only, the
 * rows are in the ledger. The notice on each campaign goes through the campaign state machine.
 */
export class MailOutage {
  /** While set, nothing is claimed until `until` (then the rows due for retry probe the server). */
  private down: { until: number; reason: string } | null = null;
  /** Campaigns whose status reason says the mail server cannot be reached. */
  private readonly told = new Set<string>();

  constructor(
    private readonly campaigns: CampaignStateMachine,
    private readonly log: Logger,
    private readonly notify: (e: CampaignEvent) => void,
  ) {}

  /** Remembers a notice a campaign got before a restart. */
  remember(c: { id: string; statusReason: string | null }): void {
    if (c.statusReason?.startsWith(mailUnreachableNotice)) this.told.add(c.id);
  }

  /** The server's last answer while claiming must wait at `now`; null when it may be tried. */
  waiting(now: number): string | null {
    return this.down && now < this.down.until ? this.down.reason : null;
  }

  /** Nothing left this machine: wait until `until` before claiming again. */
  wentDown(campaignId: string, until: number, reason: string): void {
    if (!this.down) this.log.warn({ campaignId }, 'mail server unreachable: sending waits');
    this.down = { until, reason };
  }

  /** Says once per outage, on the campaign (its Slack message shows it), that sending waits for the mail server. */
  async tell(id: string, reason: string): Promise<void> {
    if (this.told.has(id)) return;
    const text = `${mailUnreachableNotice} (${reason.slice(0, 120)}): sending waits and tries again until it answers. No one is skipped or e-mailed twice.`;
    if (!(await this.campaigns.tellNotice(id, text))) return;
    this.told.add(id);
    this.notify({ type: 'mail_unreachable', campaignId: id, reason });
  }

  /** The mail server answered (whatever it said): sending goes on and the campaign's notice goes. */
  async answered(id: string): Promise<void> {
    if (this.down) {
      this.down = null;
      this.log.info({ campaignId: id }, 'mail server reachable again');
    }
    if (!this.told.delete(id)) return;
    if (await this.campaigns.clearNotice(id, mailUnreachableNotice))
      this.notify({ type: 'mail_recovered', campaignId: id });
  }
}
