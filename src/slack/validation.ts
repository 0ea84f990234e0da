import { DomainError } from '../errors.js';
import { code, type KnownBlock, n, text } from './blocks/common.js';
import { assertAdmin, type SlackDeps } from './context.js';
import { detailsView } from './views.js';

const onOff: Record<string, boolean> = {
  on: true,
  off: false,
  yes: true,
  no: false,
  true: true,
  false: false,
};

/** `/batches validate <id>` and `/batches include-invalid <id> on|off` (admins, when SLACK_ADMIN_USERS is set). */
export function validationCommand(deps: SlackDeps, user: string, commandText: string): KnownBlock[] {
  const [sub = '', id, arg] = commandText.trim().split(/\s+/);
  const usage =
    sub.toLowerCase() === 'validate'
      ? '`/batches validate <batch id>`'
      : '`/batches include-invalid <batch id> on|off`';
  if (!id) throw new DomainError('invalid_input', `Say which batch: ${usage} (see \`/batches list\`).`);

  if (sub.toLowerCase() === 'validate') {
    assertAdmin(deps, user, 'validate addresses');
    const { kind, run } = deps.services.validation.start(id, user);
    const line =
      kind === 'started'
        ? `:mag: Checking the ${n(run.total)} addresses of ${code(id)} in the background: role mailboxes, disposable domains and DNS (MX/A). ` +
          `The counts below fill in as it goes; \`/batches show ${id}\` shows them later.`
        : `:hourglass_flowing_sand: ${code(id)} is already being checked: ${n(run.checked)} of ${n(run.total)} so far.`;
    return [text(line), ...detailsView(deps, id)];
  }

  const include = arg === undefined ? undefined : onOff[arg.toLowerCase()];
  if (include === undefined) throw new DomainError('invalid_input', `Say on or off: ${usage}.`);
  assertAdmin(deps, user, 'include or exclude invalid domains');
  deps.services.validation.setIncludeInvalidDomains(id, include, user);
  const line = include
    ? `:warning: Campaigns now also reach the contacts of ${code(id)} whose domain cannot receive mail (when it is the active batch).`
    : `:white_check_mark: Contacts of ${code(id)} whose domain cannot receive mail are left out of campaigns.`;
  return [text(line), ...detailsView(deps, id)];
}
