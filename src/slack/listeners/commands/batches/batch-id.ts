import { DomainError } from '../../../../errors.js';

/** The batch id a `/batches <sub>` needs, or a refusal that says how to write it. */
export function requireId(id: string | undefined, sub: string): string {
  if (!id)
    throw new DomainError(
      'invalid_input',
      `Say which batch: \`/batches ${sub} <batch id>\` (see \`/batches list\`).`,
    );
  return id;
}
