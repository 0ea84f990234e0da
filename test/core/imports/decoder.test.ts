import { describe, expect, it } from 'vitest';
import { streamDecoder } from '../../../src/core/imports/decoder.js';

const decodeAll = (chunks: number[][], sampleWasAscii = true) => {
  const d = streamDecoder('utf-8', sampleWasAscii);
  return chunks.map((c) => d.decode(Uint8Array.from(c))).join('') + d.end();
};
const bytes = (s: string, enc: 'utf8' | 'latin1') => [...Buffer.from(s, enc)];

describe('the decoder after an ASCII sample', () => {
  it('keeps valid UTF-8, also split across chunks', () => {
    const b = bytes('João ç €', 'utf8');
    expect(decodeAll([b.slice(0, 3), b.slice(3, 4), b.slice(4)])).toBe('João ç €');
  });

  it('switches to Windows-1252 at the first byte that is not UTF-8', () => {
    expect(decodeAll([bytes('plain, ', 'latin1'), bytes('João Conceição', 'latin1')])).toBe(
      'plain, João Conceição',
    );
    // cp1252 punctuation in 0x80–0x9F: ’ “ ” – €
    expect(decodeAll([[0x41], [0x92, 0x93, 0x94, 0x96, 0x80]])).toBe('A’“”–€');
  });

  it('re-reads a lead byte held back from the previous chunk', () => {
    // 0xC3 could start "ã" in UTF-8; the next byte is not a continuation, so both are Windows-1252.
    expect(
      decodeAll([
        [0x61, 0xc3],
        [0x28, 0x62],
      ]),
    ).toBe('aÃ(b');
    // A lead byte at the very end of the file is Windows-1252 too.
    expect(decodeAll([[0x61, 0xe9]])).toBe('aé');
  });

  it('is a plain streaming decoder when the sample already decided', () => {
    expect(decodeAll([bytes('João', 'utf8')], false)).toBe('João');
  });
});
