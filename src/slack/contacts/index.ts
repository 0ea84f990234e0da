import { subcommands as rights, help as rightsHelp } from './rights.js';
import { subcommands as suppress, help as suppressHelp } from './suppress.js';
import type { ContactsSubcommand } from './types.js';
import { subcommands as why, help as whyHelp } from './why.js';

/** Every `/contacts` subcommand, each defined in its own module. */
export const contactsSubcommands: Record<string, ContactsSubcommand> = { ...why, ...rights, ...suppress };

/** One line per subcommand for `/contacts help`. */
export const contactsHelp: string[] = [...whyHelp, ...rightsHelp, ...suppressHelp];
