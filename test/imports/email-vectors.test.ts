/**
 * E-mail address vectors written by others (shared/corpora/emails.json; sources and licences in
 * shared/corpora/email-sources/). coldbatch sends real mail, so its policy is practical: a dotted
 * domain with an alphabetic TLD, no quoted local parts, no IP literals, no display names after
 * extraction (validator.js isEmail defaults, minus quoted local parts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractEmail, isSendableEmail } from '../../src/core/imports/email.js';

type Case = { source: string; input: string; expected: 'valid' | 'invalid'; options?: unknown };
const { cases } = JSON.parse(
  readFileSync(new URL('../../../shared/corpora/emails.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

const verdict = (s: string) => (isSendableEmail(s) ? 'valid' : 'invalid');

/** Forms the practical policy refuses whatever an RFC-level suite says. */
function outOfPolicy(s: string): string | null {
  if (s.includes('"')) return 'quoted local part';
  if (/@\[/.test(s) || /@\d+\.\d+\.\d+\.\d+$/.test(s)) return 'IP literal';
  if (/[<>()]/.test(s)) return 'display name or comment';
  const domain = s.slice(s.lastIndexOf('@') + 1);
  if (!domain.includes('.')) return 'dotless domain';
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  if (!/^(\p{L}{2,}|xn--[a-z0-9-]+)$/iu.test(tld)) return 'TLD not alphabetic (2+ letters)';
  return null;
}

// Where our validator (validator.js) and a suite disagree inside the policy, with the reason.
const knownDifferences = new Map([
  [
    '𐐷𤭢@iana.org',
    'validator.js rejects astral-plane characters in the local part; no real mailbox uses them',
  ],
  [
    'test@𐏿ñoñó郵件ñoñó郵件.郵件ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.noñó郵件ñoñó郵.商務',
    'an IDN label over 63 octets once encoded: accepted here, refused by the SMTP server at send time (a bounce)',
  ],
]);

describe('validator.js isEmail cases with default options', () => {
  const own = cases.filter((c) => c.source === 'validator.js' && c.options === null);
  it(`has cases (${own.length})`, () => expect(own.length).toBeGreaterThan(50));
  for (const c of own) {
    const reason = outOfPolicy(c.input);
    it(`${c.expected}: ${JSON.stringify(c.input)}${reason ? ` (${reason}: refused)` : ''}`, () => {
      expect(verdict(c.input)).toBe(reason === 'quoted local part' ? 'invalid' : c.expected);
    });
  }
});

for (const source of [
  'is_email tests.xml',
  'is_email tests-original.xml',
  'hapi/isemail',
  'wikipedia',
  'email-addresses',
]) {
  describe(`${source}: the practical subset`, () => {
    const own = cases.filter((c) => c.source === source);
    it('every form outside the policy is refused', () => {
      const wrong = own
        .filter((c) => outOfPolicy(c.input) && verdict(c.input) === 'valid')
        .map((c) => c.input);
      expect(wrong).toEqual([]);
    });
    const inside = own.filter((c) => !outOfPolicy(c.input) && !knownDifferences.has(c.input));
    // email-addresses' cases are all display-name forms: nothing of it is inside the policy.
    it.runIf(inside.length > 0)(
      `inside the policy (${inside.length} cases), the verdict matches the suite`,
      () => {
        const mismatches = inside
          .filter((c) => verdict(c.input) !== c.expected)
          .map((c) => `${c.expected}: ${c.input}`);
        expect(mismatches).toEqual([]);
      },
    );
  });
}

describe('extracting the address from a cell', () => {
  it.each([
    ['Ana <ana@x.com>', 'ana@x.com'],
    ['"Souza, Ana" <Ana@X.com>', 'ana@x.com'],
    ['mailto:ana@x.com?subject=hi', 'ana@x.com'],
    ['MAILTO:Ana%40x.com', 'ana@x.com'],
    ['  A@X.COM  ', 'a@x.com'],
    ['a@x.com ::: b@y.com', 'a@x.com'],
    ['not-an-address ::: b@y.com', 'b@y.com'],
    ["'ana@x.com", 'ana@x.com'],
  ])('%s → %s', (cell, email) => {
    expect(extractEmail(cell)).toBe(email);
    expect(isSendableEmail(extractEmail(cell))).toBe(true);
  });

  it('never throws on malformed text (lone surrogates, huge strings)', () => {
    expect(isSendableEmail('a\uD800@x.com')).toBe(false);
    expect(isSendableEmail(`${'a'.repeat(100_000)}@x.com`)).toBe(false);
  });
});

describe('the fast path for plain addresses', () => {
  it('accepts nothing validator.isEmail refuses (20,000 generated near-addresses)', async () => {
    const { default: validator } = await import('validator');
    const alphabet = 'abcz09._+-@.-xn--';
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let plainAccepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const len = 3 + rand(20);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
      if (!s.includes('@')) s = `${s.slice(0, 2)}@${s.slice(2)}.com`;
      const ours = isSendableEmail(s);
      if (ours) plainAccepted++;
      expect([s, ours && !validator.isEmail(s)]).toEqual([s, false]);
    }
    expect(plainAccepted).toBeGreaterThan(100);
  });
});
