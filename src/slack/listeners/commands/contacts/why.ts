import { text } from '../../../blocks/common.js';
import { whyBlocks } from '../../../blocks/people.js';
import { contactSequenceBlocks } from '../../../blocks/sequences.js';
import type { Subcommand } from '../../../kit/command.js';

/** The address in a command's text: Slack may send it as `<mailto:a@b.c|a@b.c>`. */
export function addressArg(args: string): string {
  const m = /^<mailto:([^|>]+)(?:\|[^>]*)?>$/.exec(args.trim());
  return (m?.[1] ?? args).trim();
}

const usage = 'Give an address: `/contacts why ana@example.com`.';

/** `/contacts why <email>`: why an address was or was not mailed by each campaign, and its sequences. */
export const subcommands: Record<string, Subcommand> = {
  why: async ({ deps, args }) => {
    const email = addressArg(args);
    if (!email) return [text(usage)];
    const why = await deps.services.people.why(email);
    const sequences = why.contact ? await deps.services.sequences.ofContact(why.contact.id) : [];
    return [...whyBlocks(why), ...contactSequenceBlocks(sequences)];
  },
};

export const help: string[] = [
  '• `/contacts why <email>`: why an address was or was not mailed by each campaign (batch, status history, interest, suppression, last SMTP answer, what the mailbox read)',
];
