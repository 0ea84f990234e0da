import type { DoctorCheck, DoctorSettings, Probes } from './types.js';

/**
 * PUBLIC_URL: https when real mail goes out (unsubscribe links in every message point to it;
 * http then fails), and the unsubscribe route answers there: any page of ours (a made-up token
 * gives the "link not valid" page), not a connection error or a proxy's 5xx (warn).
 */
export async function checkPublicUrl(
  probes: Pick<Probes, 'httpGet'>,
  settings: Pick<DoctorSettings, 'publicUrl' | 'realMail'>,
): Promise<DoctorCheck> {
  const check = (result: DoctorCheck['result'], detail: string, fix: string | null): DoctorCheck => ({
    name: 'public_url',
    title: 'Unsubscribe page (PUBLIC_URL)',
    result,
    detail,
    fix,
  });
  const base = settings.publicUrl;
  const https = base.startsWith('https://');
  if (!https && settings.realMail)
    return check(
      'fail',
      `PUBLIC_URL is ${base}: the unsubscribe link in every message must be https.`,
      'Set PUBLIC_URL to the https address where this server is reached (behind a proxy that terminates TLS).',
    );
  const url = `${base}/u/x`;
  const got = await probes.httpGet(url);
  if (!got.ok)
    return check(
      'warn',
      `${url} could not be reached (${got.error}): recipients who click unsubscribe would get an error.`,
      'Make PUBLIC_URL reach this server from the internet (DNS, proxy, firewall), then run the doctor again.',
    );
  const ours = (got.status === 404 || got.status === 200) && got.contentType.includes('text/html');
  if (!ours)
    return check(
      'warn',
      `${url} answered ${got.status}${got.contentType ? ` (${got.contentType})` : ''}, not coldbatch's unsubscribe page.`,
      'Point PUBLIC_URL (or the proxy in front of it) at this server, then run the doctor again.',
    );
  if (!https)
    return check(
      'warn',
      `The unsubscribe page answers at ${base}, but over http: fine for the outbox, not for real mail.`,
      'Set PUBLIC_URL to an https address before you set SMTP_URL or SMTP_URLS.',
    );
  return check('pass', `The unsubscribe page answers at ${base}.`, null);
}

/** MAIL_POSTAL_ADDRESS: the law (CAN-SPAM, and most others) wants a postal address in every message. */
export function checkPostalAddress(settings: Pick<DoctorSettings, 'postalAddress'>): DoctorCheck {
  const title = 'Postal address (MAIL_POSTAL_ADDRESS)';
  if (settings.postalAddress)
    return {
      name: 'postal_address',
      title,
      result: 'pass',
      detail: `Every message ends with ${settings.postalAddress}.`,
      fix: null,
    };
  return {
    name: 'postal_address',
    title,
    result: 'fail',
    detail:
      'MAIL_POSTAL_ADDRESS is not set: marketing mail must carry your postal address (CAN-SPAM and others).',
    fix: 'Set MAIL_POSTAL_ADDRESS to your company postal address.',
  };
}

/** Each mailbox the inbox reader reads (INBOX_URL, `#inbox=`): a login and a logout. */
export async function checkInbox(
  probes: Pick<Probes, 'imapLogin'>,
  settings: Pick<DoctorSettings, 'mailboxes'>,
): Promise<DoctorCheck[]> {
  return Promise.all(
    settings.mailboxes.map(async (m): Promise<DoctorCheck> => {
      const problem = await probes.imapLogin(m);
      const title = `Inbox ${m.name}`;
      return problem === null
        ? { name: 'inbox', title, result: 'pass', detail: `coldbatch logs in to ${m.name}.`, fix: null }
        : {
            name: 'inbox',
            title,
            result: 'fail',
            detail: `coldbatch cannot log in to ${m.name}: ${problem}. Bounces, replies and complaints are not read.`,
            fix: 'Check the host, port, user and password in INBOX_URL (an app password where the provider asks for one, IMAP turned on for the mailbox).',
          };
    }),
  );
}
