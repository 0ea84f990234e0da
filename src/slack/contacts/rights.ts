import type { ForgetCounts } from '../../core/people/people-service.js';
import { button, text } from '../blocks/common.js';
import { assertAdmin, type SlackDeps } from '../context.js';
import { esc } from '../escape.js';
import { uploadToUser } from '../export.js';
import type { ContactsSubcommand } from './types.js';
import { addressArg } from './why.js';

/** The Forget button under `/contacts forget <email>`; its value is the address. */
export const forgetActionId = 'contact_forget';

/** What `/contacts forget` erased, for the person who clicked. */
export function forgottenText(hash: string, c: ForgetCounts): string {
  const parts = [
    `${c.contacts} contact`,
    `${c.ledgerRows} ledger row${c.ledgerRows === 1 ? '' : 's'} blanked`,
    `${c.historyTexts + c.batchEventTexts} history text${c.historyTexts + c.batchEventTexts === 1 ? '' : 's'} erased`,
    ...(c.importReports
      ? [`${c.importReports} import report${c.importReports === 1 ? '' : 's'} cleaned`]
      : []),
    ...(c.webhookDeliveries ? [`${c.webhookDeliveries} webhook deliveries removed`] : []),
  ];
  return (
    `:wastebasket: Forgotten (hash \`${hash}\`): ${parts.join(', ')}. ` +
    `Only the hashed suppression${c.suppressionAdded ? ' (added now)' : ''} stays, so they are never mailed again.`
  );
}

/** Forgets the person now (the button was clicked); logged without the address. */
export function forget(deps: SlackDeps, userId: string, email: string): string {
  assertAdmin(deps, userId, 'erase people');
  const counts = deps.services.people.forgetPerson(email, userId);
  const hash = deps.services.people.hashPrefix(email);
  deps.log.info({ module: 'slack', userId, hash }, 'person forgotten from Slack');
  return forgottenText(hash, counts);
}

/** `/contacts export` and `/contacts forget`: a person's rights of access and erasure (admins only). */
export const subcommands: Record<string, ContactsSubcommand> = {
  export: async ({ deps, client, user, args }) => {
    const email = addressArg(args);
    if (!email) return [text('Give an address: `/contacts export ana@example.com`.')];
    assertAdmin(deps, user, 'export what is held about a person');
    const person = deps.services.people.exportPerson(email, user);
    const hash = person.emailHash.slice(0, 12);
    await uploadToUser(client, user, {
      csv: (async function* () {
        yield `${JSON.stringify(person, null, 2)}\n`;
      })(),
      filename: `person-${hash}.json`,
      title: 'Everything coldbatch holds about one person',
      comment: `Everything coldbatch holds about \`${esc(person.email)}\` (contact, history, sends, suppression), as JSON.`,
    });
    deps.log.info({ module: 'slack', userId: user, hash }, 'person exported to user');
    return [
      text(':outbox_tray: Sent to you as a direct message: everything held about that address, as JSON.'),
    ];
  },
  forget: async ({ deps, user, args }) => {
    const email = addressArg(args);
    if (!email) return [text('Give an address: `/contacts forget ana@example.com`.')];
    assertAdmin(deps, user, 'erase people');
    // Refuses unknown addresses now, before anyone is asked to confirm.
    const person = deps.services.people.preview(email);
    const what = person.contact
      ? `contact #${person.contact.id}, ${person.history.length} history entries, ${person.sends.length} ledger rows`
      : `no contact; ${person.sends.length} ledger rows`;
    return [
      text(
        `:warning: Erase \`${esc(person.email)}\` everywhere? (${what}.) The contact is deleted, ledger answers and ` +
          'history text naming them are blanked; only a hash stays on the suppression list so they are never mailed again. ' +
          'This cannot be undone.',
      ),
      { type: 'actions', elements: [button('Forget', forgetActionId, person.email, 'danger')] },
    ];
  },
};

export const help: string[] = [
  '• `/contacts export <email>`: everything held about a person, as a JSON file by DM (admins)',
  '• `/contacts forget <email>`: erase a person everywhere, keeping only the hashed suppression (admins; asks first)',
];
