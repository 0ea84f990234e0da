/**
 * A reply's new text: the quoted history and the signature removed, and whether that text asks
 * to be removed from the mailing.
 *
 * History starts at the first of: an attribution line ("On … wrote:", "Em … escreveu:", "El …
 * escribió:", "Le … a écrit :", "Am … schrieb …:", "Il … ha scritto:", "Op … schreef …:", also
 * when a mailer wraps it over two lines), a separator ("-----Original Message-----" and its
 * translations, a line of underscores before "From:"), or Outlook's header block ("From:" then
 * "Sent:"/"Date:" within a few lines, in English, Portuguese, Spanish, French and German).
 * Lines starting with ">" are dropped wherever they are. The signature starts at "-- " (RFC
 * 3676) or a "Sent from my …" line.
 */

const maxText = 2000;

const attribution = [
  /^on\b.{4,300}\bwrote:?\s*$/i,
  /^em\b.{4,300}\bescreveu:?\s*$/i,
  /^el\b.{4,300}\bescribi[oó]:?\s*$/i,
  /^le\b.{4,300}\ba [eé]crit\s*:?\s*$/i,
  /^am\b.{4,300}\bschrieb\b.{0,300}:\s*$/i,
  /^il\b.{4,300}\bha scritto:?\s*$/i,
  /^op\b.{4,300}\bschreef\b.{0,300}:\s*$/i,
  /^.{1,200}<[^>\s]+@[^>\s]+>\s*(?:wrote|escreveu|escribi[oó]|a [eé]crit|schrieb):\s*$/i,
];

const attributionStart = /^(?:on|em|el|le|am|il|op)\s/i;

const separator = [
  /^-{2,}\s*(?:original message|mensagem original|mensaje original|message d'origine|urspr[uü]ngliche nachricht|messaggio originale|oorspronkelijk bericht)\s*-{2,}/i,
  /^-{2,}\s*(?:forwarded message|mensagem encaminhada|mensaje reenviado)\s*-{2,}/i,
  /^_{10,}\s*$/,
];

const outlookFrom = /^\*?(?:from|de|von|da|van)\s*:\*?\s+\S/i;
const outlookSent =
  /^\*?(?:sent|date|enviad[oa]|data|fecha|gesendet|datum|envoy[eé]|inviato|verzonden)\s*:\*?\s/i;

const signature = [
  /^-- ?$/,
  /^(?:sent from my|enviado do meu|enviado de meu|enviado desde mi|envoy[eé] de mon|von meinem)\b/i,
  /^get outlook for (?:ios|android)/i,
];

/** The new text of a reply, at most 2,000 characters. */
export function newTextOf(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();
    const joined = `${trimmed} ${(lines[i + 1] ?? '').trim()}`;
    if (
      attribution.some((re) => re.test(trimmed)) ||
      // A mailer may wrap the attribution ("On … Sales <s@x>" / "wrote:"): only for a line that starts like one.
      (attributionStart.test(trimmed) && attribution.some((re) => re.test(joined)))
    )
      break;
    if (separator.some((re) => re.test(trimmed))) break;
    if (outlookFrom.test(trimmed) && lines.slice(i + 1, i + 5).some((next) => outlookSent.test(next.trim())))
      break;
    if (signature.some((re) => re.test(line.trimEnd()))) break;
    if (trimmed.startsWith('>')) continue;
    kept.push(line.trimEnd());
  }
  const textOut = kept
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return textOut.length > maxText ? `${textOut.slice(0, maxText - 1)}…` : textOut;
}

/**
 * Phrases that ask to be removed, in English, Portuguese, Spanish, French and German. A phrase
 * counts unless a negation comes shortly before it in the same sentence ("don't remove me",
 * "não precisa me remover"); phrases that are themselves negative ("do not email me", "não
 * quero receber") are matched whole. Deliberately simple: a false "remove me" costs one contact,
 * a missed one a complaint.
 */
const removal = [
  /\bunsubscribe\b/i,
  /\bremove (?:me|us|my (?:e-?mail|address|name|details|contact))\b/i,
  /\bremove [^\s.,;!?]+@[^\s.,;!?]+/i,
  /\btake (?:me|us|my (?:e-?mail|address|name)) off\b/i,
  /\bopt(?:[ -])?(?:me |us )?out\b/i,
  /\bstop (?:e-?mailing|emailing|sending|contacting|messaging|writing to) (?:me|us)\b/i,
  /\bstop (?:sending|these) (?:me |us )?(?:e-?mails|emails|messages)\b/i,
  /\b(?:do not|don'?t|please don'?t) (?:e-?mail|contact|message|write to) (?:me|us)\b/i,
  /\bno (?:more|further) (?:e-?mails|emails|messages)\b/i,
  /\bdescadastr(?:ar|e|em|o|ado|ada|ar-me|e-me)\b/i,
  /\bremov(?:er|a|am|am-me|a-me|ido|ida)\b/i,
  /\bme (?:remova|remover|retire|tire|exclua|excluir|descadastre)\b/i,
  /\b(?:retire|tire|exclua) (?:meu|o meu) (?:e-?mail|endere[cç]o|contato|nome)\b/i,
  /\bn[aã]o (?:quero|desejo|gostaria de) (?:mais )?receber\b/i,
  /\bparem? de (?:me )?(?:enviar|mandar|contatar|escrever)\b/i,
  /\b(?:cancelar|cancele) (?:a |minha )?inscri[cç][aã]o\b/i,
  /\bsair d[ae]s?s?a lista\b/i,
  /\bdar(?:me)? de baja\b/i,
  /\bno (?:quiero|deseo) recibir\b/i,
  /\bd[eé]sabonn|d[eé]sinscri/i,
  /\bne (?:plus|souhaite plus) recevoir\b/i,
  /\babmelden\b|\baustragen\b/i,
];

const negation =
  /\b(?:don'?t|do not|doesn'?t|never|no need to|not|n[aã]o|nunca|sem|without|nicht|kein|ne pas)\b[^.,;:!?\n]{0,15}$/i;

const removalAll = removal.map((re) => new RegExp(re.source, `${re.flags}g`));

/** The new text (or the subject) asks to be taken off the list. */
export function asksRemoval(newText: string, subject: string): boolean {
  const subjectCore = subject.replace(/^(?:\s*(?:re|res|aw|sv|fw|fwd|enc|rv)\s*:\s*)+/i, '');
  for (const text of [subjectCore, newText]) {
    for (const re of removalAll) {
      for (const match of text.matchAll(re)) {
        const before = text.slice(Math.max(0, match.index - 40), match.index);
        const selfNegative = /^(?:do not|don'?t|please don'?t|no |n[aã]o|ne )/i.test(match[0]);
        if (selfNegative || !negation.test(before)) return true;
      }
    }
  }
  return false;
}
