/**
 * mailparser, behind a narrow shape: the text a reader of the message sees (HTML turned into
 * text with quotes kept as `> `, format=flowed joined, charsets decoded). Used for HTML-only
 * messages (reader-text.ts); structure (report parts, quoted originals) comes from mime.ts.
 */

/** mailparser (and its HTML-to-text stack) loads at the first HTML-only message, not at start. */
let parser: Promise<typeof import('mailparser')> | undefined;

/** The message's text as mailparser renders it; throws when mailparser does. */
export async function readMailText(raw: Buffer): Promise<string> {
  parser ??= import('mailparser');
  const { simpleParser } = await parser;
  const parsed = await simpleParser(withoutMboxLine(raw), {
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    keepDeliveryStatus: true,
  });
  return typeof parsed.text === 'string' ? parsed.text : '';
}

/** An mbox `From sender date` line before the headers is not a header; mailparser would take it for one. */
function withoutMboxLine(raw: Buffer): Buffer {
  if (raw.subarray(0, 5).toString('latin1') !== 'From ') return raw;
  const eol = raw.indexOf(0x0a);
  return eol < 0 ? Buffer.alloc(0) : raw.subarray(eol + 1);
}
