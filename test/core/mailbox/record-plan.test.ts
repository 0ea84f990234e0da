import { describe, expect, it } from 'vitest';
import { complaintPauseReason } from '../../../src/core/mailbox/complaint-pause.js';
import { mailboxSettings } from '../../../src/core/mailbox/mailbox-service.js';
import { bounceResponse, receivedAt } from '../../../src/core/mailbox/record-plan.js';
import { recipient } from './mailbox-kit.js';

const now = Date.UTC(2026, 5, 1);

describe('planning a record', () => {
  it("a bounce's ledger text keeps the status code and the server's words, never an address", () => {
    const text = bounceResponse(recipient('ana.souza@acme.test', true));
    expect(text).toContain('5.1.1');
    expect(text).toContain('550');
    expect(text).toContain('User unknown');
    expect(text).not.toMatch(/@/);
    expect(bounceResponse({ ...recipient('a@b.test', false), diagnostic: 'x'.repeat(2000) }).length).toBe(
      500,
    );
  });

  it('believes a Date header only when it is in the past five years', () => {
    expect(receivedAt(now - 3_600_000, now)).toBe(now - 3_600_000);
    expect(receivedAt(null, now)).toBe(now);
    expect(receivedAt(now + 60_000, now)).toBe(now);
    expect(receivedAt(0, now)).toBe(now);
    expect(receivedAt(Number.NaN, now)).toBe(now);
  });

  it('pauses on complaints above 0.1 % only after 1,000 delivered messages', () => {
    expect(complaintPauseReason({ complaints: 5, sent: 999 })).toBeNull();
    expect(complaintPauseReason({ complaints: 1, sent: 1000 })).toBeNull();
    expect(complaintPauseReason({ complaints: 2, sent: 1000 })).toMatch(
      /^Paused automatically: 2 spam complaints/,
    );
    expect(complaintPauseReason({ complaints: 3, sent: 2999 })).toMatch(/0\.1%, over 0\.1%/);
    expect(complaintPauseReason({ complaints: 3, sent: 3000 })).toBeNull();
  });

  it('the mailto counts as dedicated only when it is not the MAIL_FROM address', () => {
    const from = 'Sales <Sales@coldbatch.test>';
    expect(mailboxSettings({ unsubscribeMailto: 'sales@coldbatch.test', from }, 3).dedicatedMailto).toBe(
      false,
    );
    expect(mailboxSettings({ unsubscribeMailto: 'optout@coldbatch.test', from }, 3)).toEqual({
      unsubscribeMailto: 'optout@coldbatch.test',
      dedicatedMailto: true,
      softBounceLimit: 3,
    });
    expect(
      mailboxSettings({ unsubscribeMailto: 'optout@coldbatch.test', from: undefined }, 3).dedicatedMailto,
    ).toBe(false);
    expect(mailboxSettings({ unsubscribeMailto: undefined, from }, 3).unsubscribeMailto).toBeUndefined();
  });
});
