/**
 * A small structural MIME walker for the classifier. mailparser decodes the message as a reader
 * sees it (headers, text); this walker keeps what mailparser folds away: every part's own
 * headers, the report parts (message/delivery-status, message/feedback-report) and whether a
 * part sits inside a quoted original (message/rfc822), so a bounce's notice can be told from the
 * message it returns. Bytes are handled as latin1 strings (one char per byte) until a text
 * part's charset is known.
 */

/** Header fields in order: lowercased name and unfolded value (encoded words left as they are). */
export type HeaderList = Array<[name: string, value: string]>;

export type MimePart = {
  /** Lowercased `type/subtype`; `text/plain` when the part has no Content-Type. */
  type: string;
  params: Record<string, string>;
  headers: HeaderList;
  /** The transfer-decoded body, one char per byte. For message/* parts: the embedded message. */
  body: string;
  /** Inside a quoted message (message/rfc822, message/global): part of the original, not the notice. */
  quoted: boolean;
};

const maxParts = 200;
const maxDepth = 8;

/** Splits a message (latin1 string) at its first empty line; drops a leading mbox `From ` line. */
export function splitMessage(source: string): { head: string; body: string } {
  let text = source;
  if (text.startsWith('From ')) {
    const eol = text.indexOf('\n');
    text = eol < 0 ? '' : text.slice(eol + 1);
  }
  if (/^\r?\n/.test(text)) return { head: '', body: text.replace(/^\r?\n/, '') };
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) {
    // No empty line: all headers when it starts like one, otherwise all body.
    return /^[!-9;-~]+:/.test(text) ? { head: text, body: '' } : { head: '', body: text };
  }
  return { head: text.slice(0, match.index), body: text.slice(match.index + match[0].length) };
}

/** Parses a header block into fields; lines that are neither a field nor a continuation are skipped. */
export function parseHeaders(head: string): HeaderList {
  const fields: HeaderList = [];
  for (const line of head.split(/\r?\n/)) {
    const last = fields[fields.length - 1];
    // A parameter carried to the next line without the folding whitespace (`…;` then
    // `boundary="…"`), as some mailers write: still the field before.
    if (last && /;\s*$/.test(last[1]) && /^[a-z-]+\*?=/i.test(line)) {
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (last) last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[!-9;-~]+$/.test(name)) continue;
    fields.push([name, line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** The first value of a header, or null. */
export function headerValue(headers: HeaderList, name: string): string | null {
  for (const [key, value] of headers) if (key === name) return value;
  return null;
}

/** Every value of a header, in order. */
export function headerValues(headers: HeaderList, name: string): string[] {
  return headers.filter(([key]) => key === name).map(([, value]) => value);
}

/** `type/subtype; a=b; c="d"` → the lowercased type and its parameters (names lowercased). */
export function parseContentType(value: string | null): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const [first = '', ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  for (const piece of rest) {
    const eq = piece.indexOf('=');
    if (eq <= 0) continue;
    const name = piece.slice(0, eq).trim().toLowerCase().replace(/\*$/, '');
    let val = piece.slice(eq + 1).trim();
    if (val.startsWith('"') && val.endsWith('"') && val.length >= 2)
      val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    if (!(name in params)) params[name] = val;
  }
  const type = first.trim().toLowerCase();
  return { type: /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : 'text/plain', params };
}

/** Splits on `;` outside quotes. */
function splitParams(value: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (ch === ';' && !quoted) {
      pieces.push(current);
      current = '';
    } else current += ch;
  }
  pieces.push(current);
  return pieces;
}

/** Walks a whole message (latin1) into its leaf parts and embedded messages, in order. */
export function walkMime(source: string): { headers: HeaderList; parts: MimePart[] } {
  const { head, body } = splitMessage(source);
  const headers = parseHeaders(head);
  const parts: MimePart[] = [];
  walkEntity(headers, body, false, 0, parts);
  return { headers, parts };
}

function walkEntity(
  headers: HeaderList,
  body: string,
  quoted: boolean,
  depth: number,
  out: MimePart[],
): void {
  if (out.length >= maxParts) return;
  const { type, params } = parseContentType(headerValue(headers, 'content-type'));
  // A multipart whose boundary parameter got lost: its first delimiter line names it.
  if (type.startsWith('multipart/') && !params.boundary) {
    const guess = /^--([^\s]{1,70}?)[ \t]*\r?$/m.exec(body)?.[1];
    if (guess) params.boundary = guess;
  }
  if (type.startsWith('multipart/') && params.boundary && depth < maxDepth) {
    const children = splitMultipart(body, params.boundary);
    if (children.length === 0) {
      // The boundary never occurs (a broken or rewritten message): its body is all there is.
      out.push({ type: 'text/plain', params: {}, headers, body, quoted });
      return;
    }
    out.push({ type, params, headers, body: '', quoted });
    for (const child of children) {
      const split = splitMessage(child);
      walkEntity(parseHeaders(split.head), split.body, quoted, depth + 1, out);
    }
    return;
  }
  // Only text and message parts are ever read; an image or a PDF is not decoded.
  const readable = type.startsWith('text/') || type.startsWith('message/') || type === 'application/json';
  const decoded = readable ? decodeTransfer(body, headerValue(headers, 'content-transfer-encoding')) : '';
  out.push({ type, params, headers, body: decoded, quoted });
  if ((type === 'message/rfc822' || type === 'message/global') && depth < maxDepth) {
    const inner = splitMessage(decoded);
    walkEntity(parseHeaders(inner.head), inner.body, true, depth + 1, out);
  }
}

/** The bodies between `--boundary` lines (the preamble and epilogue dropped). */
export function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let partStart = -1;
  let search = 0;
  for (;;) {
    const at = body.indexOf(delimiter, search);
    if (at < 0) break;
    search = at + delimiter.length;
    if (at > 0 && body[at - 1] !== '\n') continue; // not at the start of a line
    const eol = body.indexOf('\n', search);
    const lineEnd = eol < 0 ? body.length : eol;
    const rest = body.slice(search, lineEnd).trimEnd();
    if (rest !== '' && rest !== '--') continue; // a longer boundary that starts with this one
    if (partStart >= 0) {
      // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
      let end = at - 1;
      if (end > partStart && body[end - 1] === '\r') end--;
      parts.push(body.slice(partStart, Math.max(partStart, end)));
    }
    if (rest === '--' || eol < 0) {
      partStart = -1;
      break;
    }
    partStart = lineEnd + 1;
    search = partStart;
  }
  // A multipart cut short (no closing delimiter) still yields its last part.
  if (partStart >= 0 && partStart < body.length) parts.push(body.slice(partStart));
  return parts;
}

/** Undoes base64 or quoted-printable; other encodings pass through. */
export function decodeTransfer(body: string, encoding: string | null): string {
  const name = (encoding ?? '').trim().toLowerCase();
  if (name === 'base64')
    return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
  if (name === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

function decodeQuotedPrintable(body: string): string {
  return body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** A part's body as text in its charset (utf-8 when unnamed or unknown). */
export function partText(part: MimePart): string {
  const text = decodeCharset(part.body, part.params.charset ?? null);
  return part.params.format?.toLowerCase() === 'flowed'
    ? unflow(text, part.params.delsp?.toLowerCase() === 'yes')
    : text;
}

/** RFC 3676 format=flowed: a line ending in a space continues on the next (the signature line excepted). */
function unflow(text: string, delSp: boolean): string {
  const out: string[] = [];
  let carry = '';
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.startsWith(' ') ? rawLine.slice(1) : rawLine;
    if (line.endsWith(' ') && line !== '-- ') carry += delSp ? line.slice(0, -1) : line;
    else {
      out.push(carry + line);
      carry = '';
    }
  }
  if (carry) out.push(carry);
  return out.join('\n');
}

/** latin1 bytes → text in the named charset; falls back to utf-8, then latin1. */
export function decodeCharset(bytes: string, charset: string | null): string {
  const buffer = Buffer.from(bytes, 'latin1');
  const label = (charset ?? 'utf-8').trim().toLowerCase();
  if (label === 'us-ascii' || label === 'ascii') return buffer.toString('latin1');
  try {
    const text = new TextDecoder(label).decode(buffer);
    // 8-bit text without a charset, or mislabelled as UTF-8, is most often Windows-1252.
    return text.includes('\uFFFD') && (label === 'utf-8' || label === 'utf8')
      ? new TextDecoder('windows-1252').decode(buffer)
      : text;
  } catch {
    try {
      return new TextDecoder('utf-8').decode(buffer);
    } catch {
      return buffer.toString('latin1');
    }
  }
}

/** Decodes RFC 2047 encoded words (`=?utf-8?B?...?=`) in a header value. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(
      /=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g,
      (_, charset: string, encoding: string, text: string) => {
        const bytes =
          encoding.toUpperCase() === 'B'
            ? Buffer.from(text, 'base64').toString('latin1')
            : text
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})/g, (__, hex: string) =>
                  String.fromCharCode(Number.parseInt(hex, 16)),
                );
        return decodeCharset(bytes, charset);
      },
    );
}
