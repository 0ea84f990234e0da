/**
 * E-mail address vectors written by others: test/fixtures/corpora/emails.json (sources in that folder's
 * README, licences in its email-sources/). coldbatch sends real mail, so its policy is practical:
 * validator.js isEmail with default options (a dotted domain with an alphabetic TLD, length limits,
 * no IP literals, no display names once the address is extracted), and no quoted local parts.
 * Every case keeps its source tag in the test name; where the policy and a source disagree, the case
 * is listed here with the reason.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { extractEmail, isSendableEmail, normalizeEmail } from '../../../src/core/imports/email.js';

const corpus = z
  .object({
    cases: z.array(
      z.object({
        source: z.string(),
        input: z.string(),
        expected: z.enum(['valid', 'invalid']),
        options: z.record(z.string(), z.unknown()).nullable().optional(),
        id: z.number().optional(),
        expected_parse: z
          .object({ address: z.string().optional(), local: z.string().optional() })
          .nullable()
          .optional(),
      }),
    ),
  })
  .parse(JSON.parse(readFileSync(new URL('../../fixtures/corpora/emails.json', import.meta.url), 'utf8')));
type Case = (typeof corpus.cases)[number];

const verdict = (address: string) => (isSendableEmail(address) ? 'valid' : 'invalid');
const show = (s: string) => {
  const json = JSON.stringify(s);
  return json.length > 72 ? `${json.slice(0, 60)}…(${s.length} chars)` : json;
};
const from = (source: string, filter: (c: Case) => boolean = () => true) =>
  corpus.cases.filter((c) => c.source === source && filter(c));

describe('validator.js isEmail tests, default options (options: null)', () => {
  // The only cases where coldbatch's policy differs from validator.js defaults.
  const policyDifferences = new Map([
    ['"foobar"@example.com', 'quoted local part: refused by policy'],
    ['"  foo  m端ller "@example.com', 'quoted local part: refused by policy'],
    ['"foo\\@bar"@example.com', 'quoted local part: refused by policy'],
  ]);
  const cases = from('validator.js', (c) => c.options === null);

  it('the corpus holds the cases listed as differences', () => {
    expect(cases.length).toBe(61);
    for (const input of policyDifferences.keys()) {
      expect(cases.find((c) => c.input === input)?.expected, input).toBe('valid');
    }
  });

  for (const c of cases) {
    const differs = policyDifferences.get(c.input);
    const expected = differs ? 'invalid' : c.expected;
    it(`validator.js: ${c.expected} ${show(c.input)}${differs ? ` → invalid (${differs})` : ''}`, () => {
      expect(verdict(c.input)).toBe(expected);
    });
  }
});

/**
 * Forms the practical policy refuses whatever an RFC-level suite says, and why. Outside these forms a
 * source's verdict must match ours.
 */
function outsidePolicy(input: string): string | null {
  if (input.includes('"')) return 'quoted local part';
  const at = input.lastIndexOf('@');
  if (at < 0) return null;
  const domain = input.slice(at + 1);
  if (domain.startsWith('[')) return 'address literal';
  if (/[()<>]/.test(input)) return 'comment or display name';
  if (!domain.includes('.')) return 'dotless domain';
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  if (!/^(?:\p{L}{2,}|xn--[a-z0-9-]+)$/iu.test(tld)) return 'TLD not alphabetic (2+ letters)';
  return null;
}

// Inside the policy's forms, where validator.js (our engine) and a suite still disagree.
const knownDifferences = new Map([
  [
    'hapi/isemail 𐐷𤭢@iana.org',
    'refused: validator.js allows no astral-plane characters in the local part; no real mailbox uses them',
  ],
  [
    'hapi/isemail test@𐏿ñoñó郵件ñoñó郵件.郵件ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.ñoñó郵件ñoñó郵件.noñó郵件ñoñó郵.商務',
    'accepted: over 254 octets only once IDNA-encoded; the SMTP server refuses it at send time (a bounce)',
  ],
]);

const rfcSources = [
  'is_email tests.xml',
  'is_email tests-original.xml',
  'hapi/isemail',
  'wikipedia',
  'email-addresses',
];

for (const source of rfcSources) {
  describe(`${source}: the subset that matches the policy`, () => {
    const cases = from(source);

    it('has cases', () => expect(cases.length).toBeGreaterThan(5));

    for (const c of cases) {
      const outside = outsidePolicy(c.input);
      const known = knownDifferences.get(`${source} ${c.input}`);
      const label = `${source}${c.id === undefined ? '' : ` #${c.id}`}: ${c.expected} ${show(c.input)}`;
      if (outside) {
        const note = c.expected === 'valid' ? ` → invalid (${outside}: refused by policy)` : ` (${outside})`;
        it(`${label}${note}`, () => {
          expect(verdict(c.input)).toBe('invalid');
        });
      } else if (known) {
        it(`${label} → ${c.expected === 'valid' ? 'invalid' : 'valid'} (${known})`, () => {
          expect(verdict(c.input)).not.toBe(c.expected);
        });
      } else {
        it(label, () => {
          expect(verdict(c.input)).toBe(c.expected);
        });
      }
    }
  });
}

describe('every source: plain dot-atom@dotted-domain addresses it calls valid are valid here', () => {
  const plain =
    /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9-]+\.)+[a-z]{2,}$/i;
  // validator.js cases with options (e.g. ignore_max_length) judge under other rules.
  const cases = corpus.cases.filter((c) => !c.options && c.expected === 'valid' && plain.test(c.input));
  it(`${cases.length} cases from ${new Set(cases.map((c) => c.source)).size} sources`, () => {
    expect(new Set(cases.map((c) => c.source))).toEqual(
      new Set([
        'validator.js',
        'is_email tests.xml',
        'is_email tests-original.xml',
        'hapi/isemail',
        'wikipedia',
      ]),
    );
    const refused = cases.filter((c) => !isSendableEmail(c.input)).map((c) => `${c.source}: ${c.input}`);
    expect(refused).toEqual([]);
  });
});

describe('display-name forms: extractEmail keeps the address', () => {
  it.each(from('email-addresses', (c) => c.expected_parse?.address !== undefined))(
    'email-addresses: $input',
    (c) => {
      const address = c.expected_parse?.address ?? '';
      expect(extractEmail(c.input)).toBe(normalizeEmail(address));
      // "a@b.c" has a one-letter TLD: extracted, still not sendable.
      expect(isSendableEmail(extractEmail(c.input))).toBe(isSendableEmail(normalizeEmail(address)));
    },
  );

  it('email-addresses: a quoted local part is not unwrapped into an address', () => {
    expect(isSendableEmail(extractEmail('"Françoise Lefèvre"@example.com'))).toBe(false);
  });

  const displayName = from('validator.js', (c) => c.options?.allow_display_name === true);
  // Cells are not headers of a message: a malformed display name does not lose the address beside it.
  const lenient = new Map([
    ['Some Name < foo@bar.co.uk >', 'spaces inside the brackets are trimmed'],
    ['invisibleCharacter\u001f<jh@gmail.com>', 'a control character in the display name'],
    ['<displayNameInBrackets><jh@gmail.com>', 'display name in brackets'],
    ['\\"quotes\\"<jh@gmail.com>', 'unquoted escaped quotes in the display name'],
    ['""quotes""<jh@gmail.com>', 'doubled quotes in the display name'],
    ['name;<jh@gmail.com>', 'a semicolon in an unquoted display name'],
    ['    <jh@gmail.com>', 'a blank display name'],
    ['"    "<jh@gmail.com>', 'a blank quoted display name'],
  ]);
  it('validator.js allow_display_name: the lenient cases are in the corpus', () => {
    for (const input of lenient.keys()) {
      expect(displayName.find((c) => c.input === input)?.expected, input).toBe('invalid');
    }
  });
  for (const c of displayName) {
    const why = lenient.get(c.input);
    it(`validator.js allow_display_name: ${c.expected} ${show(c.input)}${why ? ` → valid (${why})` : ''}`, () => {
      expect(verdict(extractEmail(c.input))).toBe(why ? 'valid' : c.expected);
    });
  }
});

describe('extractEmail on cells of real exports', () => {
  it.each([
    ['Ana <ana@x.com>', 'ana@x.com'],
    ['"Souza, Ana" <Ana@X.com>', 'ana@x.com'],
    ['<ana@x.com>', 'ana@x.com'],
    ['mailto:ana@x.com?subject=hi', 'ana@x.com'],
    ['MAILTO:Ana%40x.com', 'ana@x.com'],
    ['Ana <mailto:ana@x.com>', 'ana@x.com'],
    ['"A@X.COM "', 'a@x.com'],
    ['  A@X.COM  ', 'a@x.com'],
    ['a@x.com ::: b@y.com', 'a@x.com'],
    ['not-an-address ::: b@y.com', 'b@y.com'],
    ['Ana <ana@x.com> ::: bia@y.com', 'ana@x.com'],
    ["'ana@x.com", 'ana@x.com'],
    ["'+55 11 5555-0101", '+55 11 5555-0101'],
  ])('%s → %s', (cell, email) => {
    expect(extractEmail(cell)).toBe(email);
  });

  it.each([
    ['a@x.com ::: b@y.com', true],
    ['"A@X.COM "', true],
    ["'ana@x.com", true],
    // Outlook's "E-mail Display Name" shape is not an address form.
    ['Jane Doe (jane@x.com)', false],
    ['"foo"@example.com', false],
    ['urn:li:member:12345', false],
    ['/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=dana', false],
    ['bad ::: worse', false],
    ['', false],
  ])('%s is sendable once extracted: %s', (cell, sendable) => {
    expect(isSendableEmail(extractEmail(cell))).toBe(sendable);
  });

  it('keeps the first value, normalized, when no value of a ::: list is an address', () => {
    expect(extractEmail(' Bad ::: worse')).toBe('bad');
  });

  it('never throws on malformed text (lone surrogates, bad %-escapes, huge strings)', () => {
    expect(isSendableEmail('a\uD800@x.com')).toBe(false);
    expect(isSendableEmail('\uDC00@example.com')).toBe(false);
    expect(extractEmail('mailto:%E0%A4%A@x.com')).toBe('%e0%a4%a@x.com');
    expect(isSendableEmail(`${'a'.repeat(100_000)}@x.com`)).toBe(false);
    expect(isSendableEmail(extractEmail(`${'<'.repeat(50_000)}a@x.com`))).toBe(false);
  });
});
