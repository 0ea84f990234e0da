/**
 * How the text filters (company, position, free text) compare: ignoring case and the accents of
 * Latin letters, so `sao paulo` finds "SÃO PAULO LTDA" and `jose` finds "José", on SQLite as on
 * Postgres. Both databases fold a column with the same one-letter-for-one-letter table (Postgres
 * with `translate`, SQLite with `foldText` as a function), so the result never depends on the
 * database's locale. The table holds the Latin-1 letters (Portuguese, Spanish, French, German,
 * Italian, the Nordic languages); other letters (ł, ř, ß, æ, Greek, Cyrillic) are compared as
 * written, case included. Postgres needs a UTF-8 database for it (`translate` works by character).
 */

const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const accented = 'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöøùúûüýÿŸ';

/** The plain lowercase letter under an accented one (Ø has no decomposition: o). */
const plain = (c: string): string =>
  c === 'Ø' || c === 'ø' ? 'o' : (c.normalize('NFD')[0] ?? c).toLowerCase();

/** The letters folded, and what each becomes (same length, letter for letter: SQL `translate`'s arguments). */
export const foldFrom = upper + accented;
export const foldTo = upper.toLowerCase() + [...accented].map(plain).join('');

/** By UTF-16 code unit below U+0180 (every letter of the table is there): what it folds to. */
const codes = new Uint16Array(0x180).map((_, i) => i);
for (let i = 0; i < foldFrom.length; i++) codes[foldFrom.charCodeAt(i)] = foldTo.charCodeAt(i);
const foldable = /[A-Z\u00C0-\u017F]/;

/**
 * The text as the filters compare it: each letter of the table replaced, everything else kept.
 * Code unit by code unit (surrogate pairs pass untouched): SQLite calls it for every non-ASCII
 * value a filter scans, so it avoids a string built character by character (5× slower).
 */
export function foldText(s: string): string {
  if (!foldable.test(s)) return s;
  let out = '';
  for (let start = 0; start < s.length; start += 4096) {
    const end = Math.min(s.length, start + 4096);
    const units = new Array<number>(end - start);
    for (let i = start; i < end; i++) {
      const c = s.charCodeAt(i);
      units[i - start] = c < 0x180 ? (codes[c] ?? c) : c;
    }
    out += String.fromCharCode(...units);
  }
  return out;
}

/** The letters an accented one folds to (a, c, e, …). */
const targets = new Set(foldTo.slice(upper.length));

/**
 * Whether a letter of a folded text may have been another letter before folding (`a` may have
 * been Ã); any other character was itself, or its ASCII capital. A database can test the letters
 * that are neither (cheaply, with a case-blind LIKE) before it folds a value.
 */
export const foldedFromOthers = (c: string): boolean => targets.has(c);
