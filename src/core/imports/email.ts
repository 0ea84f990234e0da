import validator from 'validator';
import { normalizeEmail } from '../keys.js';

const multiValueSeparator = / ::: /;

/** Trimmed and lower-cased: defined with the other storage keys in core/keys.ts. */
export { normalizeEmail };

/**
 * The practical policy coldbatch sends with: validator.js isEmail defaults (a dotted domain,
 * length limits, no IP literals, no display names), and no quoted local parts.
 */
/**
 * Plain addresses (dot-atom of [a-z0-9_+-] @ dotted LDH labels with an alphabetic TLD, within
 * RFC 5321 lengths): a strict subset of what validator.isEmail accepts, checked without it.
 */
const plainAddress =
  /^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$/;

export function isSendableEmail(address: string): boolean {
  if (address.length <= 254 && plainAddress.test(address) && address.indexOf('@') <= 64) return true;
  // Lone surrogates make validator throw (encodeURI); they are never part of a real address.
  if (address.includes('"') || !address.isWellFormed()) return false;
  try {
    return validator.isEmail(address);
  } catch {
    return false;
  }
}

/**
 * Pulls the address out of a cell: `Ana <ana@x.com>`, `mailto:ana@x.com?subject=…`, `"a@x.com "`,
 * `'a@x.com` (Excel's text marker), `a@x ::: b@y` (Google's multi-value cell: the first valid one).
 */
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
  // A whole value in double quotes (`"a@x.com "`, left by a tool that quoted twice) is the address;
  // a quoted local part (`"a b"@x.com`) is not wrapped whole and stays refused.
  const quoted = /^"([^"]*)"$/.exec(v);
  if (quoted) v = quoted[1]!.trim();
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
