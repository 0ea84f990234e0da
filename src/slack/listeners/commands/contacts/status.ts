import { DomainError } from '../../../../errors.js';
import { text } from '../../../blocks/common.js';
import { contactStatusBlocks } from '../../../blocks/people.js';
import type { Subcommand } from '../../../kit/command.js';
import { assertAdmin } from '../../../kit/context.js';
import { addressArg } from './why.js';

const usage = '`/contacts status <email> active|inactive [reason]`';

/** The statuses a person sets from Slack; bounced, unsubscribed, replied and complained come from mail. */
const settable = ['active', 'inactive'] as const;
const isSettable = (s: string): s is (typeof settable)[number] => settable.some((x) => x === s);

/**
 * `/contacts status <email> active|inactive [reason]`: a person's decision about a contact (admins),
 * e.g. someone who replied is followed up by hand and may get later campaigns again. A history row
 * records who and why; a suppressed address stays suppressed, and the answer says so.
 */
export const subcommands: Record<string, Subcommand> = {
  status: async ({ deps, user, words }) => {
    const [who = '', status = '', ...why] = words;
    const email = addressArg(who);
    if (!email || !status) return [text(`Give an address and a status: ${usage}.`)];
    const wanted = status.toLowerCase();
    if (!isSettable(wanted))
      throw new DomainError('invalid_input', `\`${status.slice(0, 40)}\` cannot be set here: use ${usage}.`);
    assertAdmin(deps, user, 'change contact statuses');
    const reason = why.join(' ').trim().slice(0, 500);
    const contact = await deps.services.contacts.setStatusByEmail(email, wanted, user, reason || undefined);
    return contactStatusBlocks(contact);
  },
};

export const help: string[] = [
  `• ${usage}: set a contact active again (e.g. after a reply was followed up) or inactive; a suppressed address stays suppressed (admins)`,
];
