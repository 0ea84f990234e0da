import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findSendId, messageIdFor, sendRefTag, verpAddress } from '../../../src/core/mailbox/send-ref.js';

const key = 'current-key-0123456789abcdef';
const old = 'retired-key-fedcba9876543210';

/** The tag computed another way: the first 50 bits of HMAC-SHA256("send-ref:<id36>") as a bit string, in base32. */
function expectedTag(sendId: number, k: string): string {
  const id36 = sendId.toString(36);
  const mac = createHmac('sha256', k).update(`send-ref:${id36}`).digest();
  const bits = [...mac.subarray(0, 7)].map((b) => b.toString(2).padStart(8, '0')).join('');
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let i = 0; i < 50; i += 5) out += alphabet[Number.parseInt(bits.slice(i, i + 5), 2)];
  return `cb.${id36}.${out}`;
}

/** The tag with the character at `i` replaced by another base32 character. */
function flip(text: string, i: number): string {
  const c = text[i] === 'a' ? 'b' : 'a';
  return text.slice(0, i) + c + text.slice(i + 1);
}

describe('send refs', () => {
  it('tags a send id with 10 characters of its HMAC, and every form reads back', () => {
    for (const id of [1, 35, 36, 4242, 123_456_789, Number.MAX_SAFE_INTEGER]) {
      const tag = sendRefTag(id, key);
      expect(tag).toBe(expectedTag(id, key));
      expect(tag).toMatch(/^cb\.[1-9a-z][0-9a-z]*\.[a-z2-7]{10}$/);
      const mid = messageIdFor(id, 'acme.com', key);
      expect(mid).toBe(`<${tag}@acme.com>`);
      const verp = verpAddress('bounces@mail.acme.com', id, key);
      expect(verp).toBe(`bounces+${tag}@mail.acme.com`);
      expect(findSendId([tag], [key])).toBe(id);
      expect(findSendId([mid], [key])).toBe(id);
      expect(findSendId([verp], [key])).toBe(id);
    }
  });

  it('refuses a tampered tag, another id with the same tag, and a tag signed with another key', () => {
    const tag = sendRefTag(4242, key);
    const start = tag.lastIndexOf('.') + 1;
    for (let i = start; i < tag.length; i++) {
      expect(findSendId([`<${flip(tag, i)}@acme.com>`], [key]), `position ${i}`).toBeNull();
    }
    const sig = tag.slice(start);
    for (const id36 of ['39t', '39v', '39u0', 'z'])
      expect(findSendId([`cb.${id36}.${sig}`], [key])).toBeNull();
    // a leading zero is not another spelling of the same id
    expect(findSendId([`cb.0${tag.slice(3)}`], [key])).toBeNull();
    expect(findSendId([sendRefTag(4242, 'someone-elses-key-000000')], [key])).toBeNull();
    // no key: nothing verifies
    expect(findSendId([tag], [])).toBeNull();
    expect(findSendId([tag], [''])).toBeNull();
  });

  it('still verifies tags signed with a retired key while the new one signs', () => {
    const signedBefore = messageIdFor(77, 'acme.com', old);
    expect(findSendId([signedBefore], [key])).toBeNull();
    expect(findSendId([signedBefore], [key, old])).toBe(77);
    expect(findSendId([messageIdFor(78, 'acme.com', key)], [key, old])).toBe(78);
  });

  it('finds tags in quoted headers, folded lines, VERP addresses and upper-cased copies', () => {
    const id = 9001;
    const tag = sendRefTag(id, key);
    const dsnHeaders = [
      `Return-Path: <bounces+${tag}@acme.com>`,
      'From: "Ana" <ana@acme.com>',
      'Message-ID:',
      ` <${tag}@acme.com>`,
      'Subject: Hello',
    ].join('\r\n');
    expect(findSendId([dsnHeaders], [key])).toBe(id);
    expect(findSendId([`References: <x1@mail.example.org>\r\n\t<${tag}@acme.com>`], [key])).toBe(id);
    expect(findSendId([`Original-Envelope-Id: BOUNCES+${tag.toUpperCase()}@ACME.COM`], [key])).toBe(id);
    expect(findSendId([`"bounces+${tag}"@acme.com`], [key])).toBe(id);
    // not inside a longer word
    expect(findSendId([`xx${tag}@acme.com`], [key])).toBeNull();
    expect(findSendId([`<${tag}x@acme.com>`], [key])).toBeNull();
  });

  it('returns the first tag that verifies, skipping forged ones', () => {
    const forged = flip(sendRefTag(5, key), sendRefTag(5, key).length - 1);
    const texts = [
      'no tag here',
      `In-Reply-To: <${forged}@acme.com>`,
      sendRefTag(6, key),
      sendRefTag(7, key),
    ];
    expect(findSendId(texts, [key])).toBe(6);
    expect(findSendId([`${forged} then ${sendRefTag(8, key)}`], [key])).toBe(8);
    expect(findSendId([], [key])).toBeNull();
  });

  it('gives up on a text stuffed with forged tags instead of checking them all', () => {
    const forgeries = Array.from({ length: 200 }, (_, i) => `cb.${(i + 1).toString(36)}.aaaaaaaaaa`).join(
      ' ',
    );
    expect(findSendId([forgeries, sendRefTag(3, key)], [key])).toBeNull();
    // a few forged ones do not hide a real tag
    expect(findSendId([forgeries.slice(0, 300), sendRefTag(3, key)], [key])).toBe(3);
  });

  it('refuses what cannot make a ref', () => {
    expect(() => sendRefTag(0, key)).toThrow(RangeError);
    expect(() => sendRefTag(1.5, key)).toThrow(RangeError);
    expect(() => sendRefTag(1, '')).toThrow(RangeError);
    expect(() => messageIdFor(1, 'a b', key)).toThrow(RangeError);
    expect(() => messageIdFor(1, '', key)).toThrow(RangeError);
    expect(() => verpAddress('bounces', 1, key)).toThrow(RangeError);
  });
});
