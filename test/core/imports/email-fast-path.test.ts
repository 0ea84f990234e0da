/** The plain-address fast path in isSendableEmail must be a strict subset of validator.isEmail. */
import { describe, expect, it } from 'vitest';
import { isSendableEmail } from '../../../src/core/imports/email.js';

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
