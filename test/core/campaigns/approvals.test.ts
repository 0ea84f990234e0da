import { afterEach, describe, expect, it } from 'vitest';
import { importText, refusal, testClock, testCore } from '../../helpers.js';

const csv = 'email,name\nana@x.com,Ana\nbia@x.com,Bia\ncai@x.com,Cai\n';
const input = { name: 'Intro', subject: 'Hi {{first_name|there}}', body: 'Hello', sendAt: 'now' as const };

let core: ReturnType<typeof testCore>;
afterEach(() => core.cleanup());

async function setup(env: Record<string, string> = {}) {
  const clock = testClock();
  core = testCore({ clock, env });
  await importText(core.services, csv);
  return { clock, s: core.services };
}

describe('two-person rule (APPROVAL_THRESHOLD)', () => {
  it('off (unset): a scheduled campaign starts and completes at once', async () => {
    const { s } = await setup();
    const c = await s.campaigns.create(input, 'UADMIN');
    expect(c.approval).toBeNull();
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
    expect((await s.campaigns.counts(c.id)).sent).toBe(3);
  });

  it('an audience at the threshold needs no approval', async () => {
    const { s } = await setup({ APPROVAL_THRESHOLD: '3' });
    const c = await s.campaigns.create(input, 'UADMIN');
    expect(c.approval).toBeNull();
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
  });

  it('over the threshold: nothing is sent until an admin other than the creator approves', async () => {
    const { clock, s } = await setup({ APPROVAL_THRESHOLD: '2' });
    const c = await s.campaigns.create(input, 'UADMIN');
    expect(c.approval).toMatchObject({ requiredAt: expect.any(String), approvedBy: null });
    await s.sending.runDue();
    clock.advance(10 * 60_000);
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('scheduled');
    expect((await s.campaigns.counts(c.id)).sent).toBe(0);

    const self = await await refusal(() => s.campaigns.approve(c.id, 'UADMIN'));
    expect(self.code).toBe('forbidden');
    expect(self.message).toContain('cannot approve it yourself');
    const api = await await refusal(() => s.campaigns.approve(c.id, 'api'));
    expect(api.code).toBe('forbidden');
    expect((await s.campaigns.get(c.id)).approval?.approvedBy).toBeNull();

    const approved = await s.campaigns.approve(c.id, 'UOTHER');
    expect(approved.approval).toMatchObject({
      approvedBy: 'UOTHER',
      approvedAt: new Date(clock.now()).toISOString(),
    });
    expect((await s.campaigns.approve(c.id, 'UTHIRD')).approval?.approvedBy).toBe('UOTHER'); // idempotent
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
    expect((await s.campaigns.counts(c.id)).sent).toBe(3);
  });

  it('approved long after its send time (past MISSED_SCHEDULE_GRACE) it starts at once: the approval is the confirmation', async () => {
    const { clock, s } = await setup({ APPROVAL_THRESHOLD: '2', MISSED_SCHEDULE_GRACE: '1h' });
    const c = await s.campaigns.create(input, 'api');
    clock.advance(3 * 3_600_000);
    await s.sending.runDue();
    expect(await s.campaigns.get(c.id)).toMatchObject({ status: 'scheduled', awaitingConfirmation: false });
    await s.campaigns.approve(c.id, 'UADMIN');
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
  });

  it('an approval waits for a future send time; rescheduling asks for a new approval', async () => {
    const { clock, s } = await setup({ APPROVAL_THRESHOLD: '2' });
    const at = new Date(clock.now() + 3_600_000).toISOString();
    const c = await s.campaigns.create({ ...input, sendAt: at }, 'UADMIN');
    await s.campaigns.approve(c.id, 'UOTHER');
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('scheduled');
    const again = await s.campaigns.schedule(c.id, { sendAt: at }, 'UADMIN');
    expect(again.approval?.approvedBy).toBeNull();
    clock.advance(3_600_000);
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('scheduled');
    await s.campaigns.approve(c.id, 'UOTHER');
    await s.sending.runDue();
    expect((await s.campaigns.get(c.id)).status).toBe('completed');
  });

  it('a draft needs no approval until it is scheduled; a campaign without the rule cannot be approved', async () => {
    const { s } = await setup({ APPROVAL_THRESHOLD: '2' });
    const draft = await s.campaigns.create({ name: 'D', subject: 's', body: 'b' }, 'UADMIN');
    expect(draft.approval).toBeNull();
    expect((await await refusal(() => s.campaigns.approve(draft.id, 'UOTHER'))).code).toBe('conflict');
    expect((await s.campaigns.schedule(draft.id, { sendAt: 'now' }, 'UADMIN')).approval).not.toBeNull();
  });
});
