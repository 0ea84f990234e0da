/**
 * Auto-replies (out of office, vacation notices, autoresponders): recorded, never counted as a
 * reply. The headers mailers set (RFC 3834 Auto-Submitted; X-Autoreply, X-Autorespond and
 * Precedence: auto_reply from older responders; Microsoft's X-MS-Exchange auto-reply marker)
 * and the subjects they write in English, Portuguese, Spanish, French, German, Italian, Dutch,
 * Scandinavian languages, Polish, Czech, Russian, Japanese, Chinese and Korean. Note that bounces carry `Auto-Submitted: auto-replied` too (Postfix, Exim), so the
 * classifier asks `headerSaysAutomatic` only after it has ruled out a bounce.
 */
import type { HeaderList } from './mime.js';
import { headerValue } from './mime.js';

/** Headers only autoresponders set (a bounce never carries these). */
export function headerSaysAutoReply(headers: HeaderList): boolean {
  if (headerValue(headers, 'x-autoreply') !== null) return true;
  if (headerValue(headers, 'x-autorespond') !== null) return true;
  if (headerValue(headers, 'x-autoreply-from') !== null) return true;
  if (headerValue(headers, 'x-mail-autoreply') !== null) return true;
  if (/^auto[_-]?reply$/i.test((headerValue(headers, 'precedence') ?? '').trim())) return true;
  const exchange = headerValue(headers, 'x-ms-exchange-generated-message-source') ?? '';
  return /mailbox rules agent|auto-?reply/i.test(exchange);
}

/** RFC 3834: any Auto-Submitted value other than `no` marks a message sent by a machine. */
export function headerSaysAutomatic(headers: HeaderList): boolean {
  const value = headerValue(headers, 'auto-submitted');
  return value !== null && !/^\s*no\b/i.test(value);
}

// Each at the start of the subject (after an optional bracket), as responders write them.
const subjectStarts = [
  // English
  /^auto(?:matic)?[ -]?(?:reply|response|respond|answer)\b/i,
  /^auto:/i,
  /^out of (?:the )?office\b/i,
  /^(?:ooo|o\.o\.o\.)\b/i,
  /^away from (?:the |my )?office\b/i,
  /^(?:on )?(?:vacation|holiday|annual leave|leave)\s*(?:reply|notice|message|auto-?reply|:)/i,
  /^(?:i am|i'm) (?:currently )?(?:out|away|on vacation|on leave)\b/i,
  /^absence\s*(?:notice|message|:)/i,
  // Portuguese
  /^resposta autom[aá]tica\b/i,
  /^(?:aus[eê]ncia|ausente|f[eé]rias)\b/i,
  /^fora do escrit[oó]rio\b/i,
  /^(?:mensagem|aviso) de aus[eê]ncia\b/i,
  // Spanish
  /^respuesta autom[aá]tica\b/i,
  /^fuera de (?:la )?oficina\b/i,
  /^(?:de )?vacaciones\b/i,
  // French
  /^r[eé]ponse automatique\b/i,
  /^(?:message d'absence|absent(?:e)?\b|en cong[eé]s?\b)/i,
  // German
  /^automatische antwort\b/i,
  /^(?:abwesenheitsnotiz|abwesenheit|abwesend|urlaub)\b/i,
  // Italian, Dutch
  /^risposta automatica\b/i,
  /^fuori (?:ufficio|sede)\b/i,
  /^automatisch antwoord\b/i,
  /^(?:afwezig|afwezigheid)\b/i,
  // Japanese, Chinese, Korean
  /^(?:自動返信|自動応答|不在|休暇|自動回覆|自动回复|자동\s?응답|부재)/,
  // Scandinavian, Polish, Czech, Russian
  /^(?:autosvar|automatisk svar|fraværende|frånvaro)\b/i,
  /^(?:odpowied[zź] automatyczna|automatick[aá] odpov[eě][dď])/i,
  /^(?:автоматический ответ|автоответ|нет на месте)/i,
];

// Anywhere in the subject: markers responders append or bracket.
const subjectAnywhere = [
  /[[(](?:auto[ -]?reply|autoreply|out of office|ooo|auto-?response|resposta autom[aá]tica)[\])]/i,
  /\bout of (?:the )?office\b.*\b(?:until|till|returning|back)\b/i,
  /\bautoreply\b/i,
  /(?:不在通知|自動返信)/,
];

/** The subject reads like an out-of-office or autoresponder subject. */
export function subjectSaysAutoReply(subject: string): boolean {
  const trimmed = subject.trim().replace(/^[[(]\s*/, '');
  return subjectStarts.some((re) => re.test(trimmed)) || subjectAnywhere.some((re) => re.test(subject));
}

// The first words of a short message that say the writer is away (no header or subject marks it).
const bodyStarts = [
  /^(?:hello|hi|dear[^\n,]*|thank you[^\n.]*|thanks[^\n.]*)?[,.!\s]*(?:i am|i'm|i will be) (?:currently |now )?(?:out of (?:the )?office|away from (?:the |my )?(?:office|desk)|on (?:annual |parental |maternity |sick )?(?:leave|vacation|holiday)|travell?ing with limited access)/i,
  /^(?:ol[aá]|bom dia|boa tarde|prezad[oa][^\n,]*|obrigad[oa][^\n.]*)?[,.!\s]*(?:estou|eu estou|estarei) (?:atualmente |no momento )?(?:fora do escrit[oó]rio|ausente|de f[eé]rias|em f[eé]rias|de licen[cç]a)/i,
  /^(?:hola|buenos d[ií]as)?[,.!\s]*(?:estoy|estar[eé]) (?:actualmente )?(?:fuera de la oficina|ausente|de vacaciones)/i,
  /^(?:bonjour)?[,.!\s]*je suis (?:actuellement )?(?:absente?|en cong[eé]s?|en vacances)/i,
  /^(?:hallo|guten tag)?[,.!\s]*ich bin (?:derzeit |zurzeit |bis [^\n]{1,30} )?(?:nicht im b[uü]ro|abwesend|im urlaub)/i,
];

/** A short text that opens by saying its writer is out of the office. */
export function textSaysAway(text: string): boolean {
  if (text.length > 1500) return false;
  const opening = text.trim().slice(0, 300);
  return bodyStarts.some((re) => re.test(opening));
}

/**
 * Bulk or mailing-list mail (a newsletter, a notification): List-Id or List-Unsubscribe (RFC 2369,
 * RFC 2919), or Precedence bulk, list or junk. A person's answer carries none of these.
 */
export function headerSaysBulk(headers: HeaderList): boolean {
  if (headerValue(headers, 'list-id') !== null || headerValue(headers, 'list-unsubscribe') !== null)
    return true;
  return /^\s*(?:bulk|list|junk)\b/i.test(headerValue(headers, 'precedence') ?? '');
}
