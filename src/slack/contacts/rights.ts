import type { ContactsSubcommand } from './types.js';

/** Placeholder until built (issue 8). */
export const subcommands: Record<string, ContactsSubcommand> = {};
export const help: string[] = [];
