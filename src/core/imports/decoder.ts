import type { Encoding } from './sniff.js';

/** The bytes at the end of a chunk that start a UTF-8 sequence the chunk does not finish. */
function unfinishedTail(chunk: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, chunk.length); back++) {
    const b = chunk[chunk.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? chunk.subarray(chunk.length - back) : new Uint8Array(0);
  }
  return new Uint8Array(0);
}

/**
 * A streaming decoder. When the first part of a file was pure ASCII, its encoding is not known
 * yet: the rest is decoded as strict UTF-8 and, at the first byte that is not UTF-8, switches to
 * Windows-1252 for good (exact, as ASCII is the same in both) — a Brazilian Excel file whose
 * first "ç" comes after the sample keeps it.
 */
export function streamDecoder(encoding: Encoding, sampleWasAscii: boolean) {
  let decoder = new TextDecoder(encoding, { fatal: encoding === 'utf-8' && sampleWasAscii });
  let tentative = encoding === 'utf-8' && sampleWasAscii;
  let held: Uint8Array = new Uint8Array(0);
  return {
    decode(chunk: Uint8Array): string {
      if (!tentative) return decoder.decode(chunk, { stream: true });
      try {
        const text = decoder.decode(chunk, { stream: true });
        held = unfinishedTail(chunk);
        return text;
      } catch {
        tentative = false;
        decoder = new TextDecoder('windows-1252');
        const bytes = new Uint8Array(held.length + chunk.length);
        bytes.set(held);
        bytes.set(chunk, held.length);
        return decoder.decode(bytes, { stream: true });
      }
    },
    end(): string {
      try {
        return decoder.decode();
      } catch {
        return new TextDecoder('windows-1252').decode(held);
      }
    },
  };
}

/** True when every byte is ASCII. */
export function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}
