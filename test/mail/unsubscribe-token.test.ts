import { describe, expect, it } from 'vitest';
import { signUnsubscribeToken, verifyUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';

const secret = 'current-secret-0123456789';
const old = 'retired-secret-9876543210';

/** The token with the character at `i` replaced by another URL-safe one. */
function flip(token: string, i: number): string {
  const c = token[i] === 'A' ? 'B' : 'A';
  return token.slice(0, i) + c + token.slice(i + 1);
}

describe('unsubscribe tokens', () => {
  it('round-trips send ids, in a URL-safe form', () => {
    for (const id of [1, 42, 123_456, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      const token = signUnsubscribeToken(id, secret);
      expect(token).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{22,}$/);
      expect(encodeURIComponent(token)).toBe(token);
      expect(verifyUnsubscribeToken(token, secret)).toBe(id);
    }
  });

  it('rejects a token with any one character changed', () => {
    const token = signUnsubscribeToken(4242, secret);
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      expect(verifyUnsubscribeToken(flip(token, i), secret), `position ${i}`).toBeNull();
    }
  });

  it("rejects another send id carrying the first token's signature", () => {
    const [, sig] = signUnsubscribeToken(7, secret).split('.');
    for (const id of ['8', '6', '70', '07', 'z']) {
      expect(verifyUnsubscribeToken(`${id}.${sig}`, secret)).toBeNull();
    }
  });

  it('rejects a token signed with another secret, and accepts retired secrets from a rotation list', () => {
    const signedWithOld = signUnsubscribeToken(99, old);
    expect(verifyUnsubscribeToken(signedWithOld, secret)).toBeNull();
    expect(verifyUnsubscribeToken(signedWithOld, [secret, old])).toBe(99);
    expect(verifyUnsubscribeToken(signUnsubscribeToken(99, secret), [secret, old])).toBe(99);
    expect(verifyUnsubscribeToken(signedWithOld, [])).toBeNull();
    expect(verifyUnsubscribeToken(signedWithOld, ['', secret])).toBeNull();
  });

  it.each([
    '',
    '.',
    'a.b',
    '1.',
    '.abc',
    '1.2.3',
    'x'.repeat(10_000),
    `1.${'A'.repeat(10_000)}`,
    ' 1.abc',
    '0.AAAAAAAAAAAAAAAAAAAAAAAA',
    '%31.AAAAAAAAAAAAAAAAAAAAAAAA',
  ])('returns null for garbage %#', (token) => {
    expect(verifyUnsubscribeToken(token, secret)).toBeNull();
  });

  it('rejects a re-cased token and an id beyond the safe integers', () => {
    const token = signUnsubscribeToken(5, secret);
    expect(verifyUnsubscribeToken(token.toUpperCase(), secret)).toBeNull();
    expect(verifyUnsubscribeToken(`zzzzzzzzzzz.${token.split('.')[1]}`, secret)).toBeNull();
  });

  it('refuses to sign an invalid id or with an empty secret', () => {
    for (const id of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => signUnsubscribeToken(id, secret)).toThrow(RangeError);
    }
    expect(() => signUnsubscribeToken(1, '')).toThrow(RangeError);
  });
});
