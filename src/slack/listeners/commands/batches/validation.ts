import type { AckFn, RespondArguments, RespondFn } from '@slack/bolt';
import { DomainError } from '../../../../errors.js';
import { code, errorBlocks, type KnownBlock, n, text } from '../../../blocks/common.js';
import type { Subcommand } from '../../../kit/command.js';
import { assertAdmin, failureText, type SlackDeps } from '../../../kit/context.js';
import { respondReliably } from '../../../kit/respond.js';
import { detailsView } from '../../../views/batches.js';

const onOff: Record<string, boolean> = {
  on: true,
  off: false,
  yes: true,
  no: false,
  true: true,
  false: false,
};

/**
 * Slack wants the ack of a command within 3 s, and `/batches validate` first checks that DNS
 * answers, which can take up to VALIDATION_TIMEOUT: past this, the ack says it is still checking
 * and the answer follows through the response_url.
 */
export const validationAckBudgetMs = 2500;

/** `/batches validate <id>` and `/batches include-invalid <id> on|off` (admins, when SLACK_ADMIN_USERS is set). */
export async function validationCommand(
  deps: SlackDeps,
  user: string,
  commandText: string,
): Promise<KnownBlock[]> {
  const [sub = '', id, arg] = commandText.trim().split(/\s+/);
  const usage =
    sub.toLowerCase() === 'validate'
      ? '`/batches validate <batch id>`'
      : '`/batches include-invalid <batch id> on|off`';
  if (!id) throw new DomainError('invalid_input', `Say which batch: ${usage} (see \`/batches list\`).`);

  if (sub.toLowerCase() === 'validate') {
    assertAdmin(deps, user, 'validate addresses');
    const result = await deps.services.validation.start(id, user);
    if (result.kind === 'dns_unavailable') {
      // The details below carry the whole message (what failed, what to do).
      return [
        text(`:warning: ${code(id)} was not validated: DNS lookups are failing on this server.`),
        ...(await detailsView(deps, id)),
      ];
    }
    const { run } = result;
    const line =
      result.kind === 'started'
        ? `:mag: Checking the ${n(run.total)} addresses of ${code(id)} in the background: role mailboxes, disposable domains and DNS (MX/A). ` +
          `The counts below fill in as it goes; \`/batches show ${id}\` shows them later.`
        : `:hourglass_flowing_sand: ${code(id)} is already being checked: ${n(run.checked)} of ${n(run.total)} so far.`;
    return [text(line), ...(await detailsView(deps, id))];
  }

  const include = arg === undefined ? undefined : onOff[arg.toLowerCase()];
  if (include === undefined) throw new DomainError('invalid_input', `Say on or off: ${usage}.`);
  assertAdmin(deps, user, 'include or exclude invalid domains');
  await deps.services.validation.setIncludeInvalidDomains(id, include, user);
  const line = include
    ? `:warning: Campaigns now also reach the contacts of ${code(id)} whose domain cannot receive mail (when it is the active batch).`
    : `:white_check_mark: Contacts of ${code(id)} whose domain cannot receive mail are left out of campaigns.`;
  return [text(line), ...(await detailsView(deps, id))];
}

/**
 * Answers `/batches validate|include-invalid` in the ack when it is done within
 * `budgetMs`; otherwise acks that DNS is still being checked and answers through respond().
 */
export async function answerValidationCommand(
  deps: SlackDeps,
  user: string,
  commandText: string,
  ack: AckFn<string | RespondArguments>,
  respond: RespondFn,
  budgetMs = validationAckBudgetMs,
): Promise<void> {
  const work = validationCommand(deps, user, commandText).catch((e: unknown) =>
    errorBlocks(failureText(deps, e, 'running /batches')),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), budgetMs);
  });
  const blocks = await Promise.race([work, late]);
  clearTimeout(timer);
  if (blocks) {
    await ack({ response_type: 'ephemeral', text: 'Batches', blocks });
    return;
  }
  await ack({
    response_type: 'ephemeral',
    text: ':hourglass_flowing_sand: Checking that DNS lookups work on this server… I will answer here.',
  });
  const answer = respondReliably(respond);
  deps.background.run(
    work
      .then((done) => answer({ response_type: 'ephemeral', text: 'Batches', blocks: done }))
      .catch((err: unknown) => deps.log.error({ err }, 'could not answer /batches validate')),
  );
}

/** Checks DNS first: answers in the ack, or later through respond() when DNS is slow. */
const validate: Subcommand = async ({ deps, user, text, ack, respond }) => {
  await answerValidationCommand(deps, user, text, ack, respond);
  return null;
};

/** `/batches validate|include-invalid`. */
export const subcommands: Record<string, Subcommand> = { validate, 'include-invalid': validate };
