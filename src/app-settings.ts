import type { Config } from './config.js';
import { mailSettings } from './mail/index.js';

/** The mailer settings of the configuration. */
export function mailerOptions(config: Config) {
  return {
    outboxDir: config.mail.outboxDir,
    ...(config.mail.smtpUrl ? { smtpUrl: config.mail.smtpUrl } : {}),
    ...(config.mail.accounts.length > 0 ? { accounts: config.mail.accounts } : {}),
    ...mailSettings(config.mail), // the rate, SMTP_URL's DKIM key, SEND_GAP
    maxConnections: config.mail.maxConnections,
  };
}

/**
 * What a campaign will need that the configuration lacks, one line each for the start log (a
 * campaign refuses to start without them; better to know before writing one).
 */
export function campaignWarnings(config: Config): { variable: string; message: string }[] {
  const warnings: { variable: string; message: string }[] = [];
  if (!config.mail.from) {
    warnings.push({
      variable: 'MAIL_FROM',
      message:
        "MAIL_FROM not set: every campaign must then give its own sender; set MAIL_FROM to the sender's name and address",
    });
  }
  if (!config.mail.postalAddress) {
    warnings.push({
      variable: 'MAIL_POSTAL_ADDRESS',
      message:
        'MAIL_POSTAL_ADDRESS not set: no campaign can start until it is (every footer carries your postal address)',
    });
  }
  const outbox = !config.mail.smtpUrl && config.mail.accounts.length === 0;
  if (outbox && !config.mail.publicUrl.startsWith('https://')) {
    warnings.push({
      variable: 'PUBLIC_URL',
      message: `unsubscribe links point to ${config.mail.publicUrl}: fine for the outbox; real mail (SMTP_URL) needs PUBLIC_URL set to an https URL recipients can reach`,
    });
  }
  return warnings;
}
