import { text } from '../../../blocks/common.js';
import { forgetQuestionBlocks } from '../../../blocks/people.js';
import { uploadToUser } from '../../../flows/exports.js';
import type { Subcommand } from '../../../kit/command.js';
import { assertAdmin } from '../../../kit/context.js';
import { esc } from '../../../kit/escape.js';
import { addressArg } from './why.js';

/** `/contacts export` and `/contacts forget`: a person's rights of access and erasure (admins only). */
export const subcommands: Record<string, Subcommand> = {
  export: async ({ deps, client, user, args }) => {
    const email = addressArg(args);
    if (!email) return [text('Give an address: `/contacts export ana@example.com`.')];
    assertAdmin(deps, user, 'export what is held about a person');
    const person = await deps.services.people.exportPerson(email, user);
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
    const person = await deps.services.people.preview(email);
    const what = person.contact
      ? `contact #${person.contact.id}, ${person.history.length} history entries, ${person.sends.length} ledger rows`
      : `no contact; ${person.sends.length} ledger rows`;
    return forgetQuestionBlocks(person.email, what);
  },
};

export const help: string[] = [
  '• `/contacts export <email>`: everything held about a person, as a JSON file by DM (admins)',
  '• `/contacts forget <email>`: erase a person everywhere, keeping only the hashed suppression (admins; asks first)',
];
