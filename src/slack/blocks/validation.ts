import type { ValidationSummary } from '../../core/validation/validation-service.js';
import { esc } from '../kit/escape.js';
import { code, context, type KnownBlock, n, text, when } from './common.js';

/** The validation counts of a batch, the run under way, and whether invalid domains are mailed. */
export function validationBlocks(batchId: string, s: ValidationSummary): KnownBlock[] {
  const c = s.counts;
  const blocks: KnownBlock[] = [
    text(
      `*E-mail validation*: ${n(c.valid)} valid · ${n(c.role)} role · ${n(c.disposable)} disposable · ` +
        `${n(c.no_mail_domain)} no mail domain · ${n(c.unknown)} unknown · ${n(c.unchecked)} not checked`,
    ),
  ];
  if (s.failure && !s.run) {
    // Said in full (which resolver answered what, what to do): nothing else explains why the counts did not move.
    blocks.push(
      text(
        `:warning: *The last validation stopped* ${when(s.failure.at)}: ${esc(s.failure.message)}\n` +
          `To validate again: ${code(`/batches validate ${batchId}`)}`,
      ),
    );
  }
  const notes: string[] = [];
  if (s.run) {
    notes.push(`:hourglass_flowing_sand: Validating: ${n(s.run.checked)} of ${n(s.run.total)} checked.`);
  } else if (s.lastValidatedAt) {
    notes.push(`Last validated ${when(s.lastValidatedAt)}.`);
  } else if (!s.failure) {
    notes.push(`Not validated yet: ${code(`/batches validate ${batchId}`)}.`);
  }
  if (s.includeInvalidDomains) {
    notes.push(
      `:warning: Contacts without a mail domain *are included* in campaigns (${code(`/batches include-invalid ${batchId} off`)}).`,
    );
  } else if (c.no_mail_domain > 0) {
    notes.push(
      `Contacts without a mail domain are left out of campaigns (${code(`/batches include-invalid ${batchId} on`)} to include them).`,
    );
  }
  if (notes.length > 0) blocks.push(context(notes.join('\n')));
  return blocks;
}
