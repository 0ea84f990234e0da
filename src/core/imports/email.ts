import validator from 'validator';

const multiValueSeparator = / ::: /;

/** Normalizes an address for storage and comparison: trimmed, lower-cased. */
export function normalizeEmail(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * The practical policy coldbatch sends with: validator.js isEmail defaults (a dotted domain,
 * length limits, no IP literals, no display names), and no quoted local parts.
 */
export function isSendableEmail(address: string): boolean {
  // Lone surrogates make validator throw (encodeURI); they are never part of a real address.
  if (address.includes('"') || !address.isWellFormed()) return false;
  try {
    return validator.isEmail(address);
  } catch {
    return false;
  }
}

/** Pulls the address out of a cell: `Ana <ana@x.com>`, `mailto:ana@x.com?subject=…`, `a@x ::: b@y` (first valid). */
export function extractEmail(cell: string): string {
  const values = cell.split(multiValueSeparator);
  let first = '';
  for (const raw of values) {
    const candidate = normalizeEmail(unwrap(raw));
    if (first === '') first = candidate;
    if (isSendableEmail(candidate)) return candidate;
  }
  return first;
}

function unwrap(raw: string): string {
  let v = raw.trim();
  const angle = /<([^<>]*)>\s*$/.exec(v);
  if (angle) v = angle[1]!.trim();
  if (/^mailto:/i.test(v)) {
    v = v.slice('mailto:'.length);
    const q = v.indexOf('?');
    if (q >= 0) v = v.slice(0, q);
    try {
      v = decodeURIComponent(v);
    } catch {
      // keep the raw text: validation will say it is not an address
    }
  }
  // A leading apostrophe is Excel's "keep as text" marker.
  if (v.startsWith("'")) v = v.slice(1);
  return v.trim();
}
