import { describe, expect, it } from 'vitest';
import { foldedFromOthers, foldFrom, foldText, foldTo } from '../../src/core/text-fold.js';

describe('text folding (the text filters)', () => {
  it('folds case and the accents of Latin letters, letter for letter, and keeps everything else', () => {
    expect(foldText('SÃO PAULO LTDA')).toBe('sao paulo ltda');
    expect(foldText('José Álvares Conceição')).toBe('jose alvares conceicao');
    expect(foldText('Ørsted Ñandú Ÿves')).toBe('orsted nandu yves');
    // Beyond the table: as written (so both databases agree whatever their locale).
    expect(foldText('Straße Директор Ωmega')).toBe('straße Директор Ωmega');
    expect(foldText('plain 100% ascii_')).toBe('plain 100% ascii_');
    expect(foldText('😀 É 😀')).toBe('😀 e 😀');
  });

  it('folds a long value whole (past the 4,096 units it builds at a time)', () => {
    const long = `${'Ã'.repeat(5000)}😀${'É'.repeat(5000)}`;
    expect(foldText(long)).toBe(`${'a'.repeat(5000)}😀${'e'.repeat(5000)}`);
  });

  it('has one target per letter, and knows which folded letters may have been accented', () => {
    expect([...foldFrom]).toHaveLength([...foldTo].length);
    expect(new Set(foldFrom).size).toBe(foldFrom.length);
    expect([...'aceinouy'].every(foldedFromOthers)).toBe(true);
    expect([...'bdfghjklmpqrstvwxz0 %'].some(foldedFromOthers)).toBe(false);
  });
});
