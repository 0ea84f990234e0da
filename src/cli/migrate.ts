import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { openDb } from '../db/client.js';
import { upgradeDatabase } from '../db/legacy.js';
import { readEnv } from '../env.js';

/** `npm run migrate`: migrations plus the upgrade of an old-schema database, with a printed summary. */
function main(): number {
  const config = loadConfig(readEnv());
  const db = openDb(config.databasePath);
  try {
    const s = upgradeDatabase(db, systemClock);
    console.log(`Database: ${config.databasePath}`);
    console.log('Migrations applied.');
    if (s.legacyFound) {
      console.log(
        `Old contacts table upgraded: ${s.contactsRead} rows read, ${s.contactsMoved} contacts moved, ` +
          `${s.duplicatesMerged} duplicates merged (case variants included), ${s.skippedNoEmail} rows without e-mail skipped, ` +
          `${s.unknownStatuses} unknown statuses set to inactive, ${s.suppressed} bounced/unsubscribed addresses suppressed.`,
      );
      for (const b of s.batches) {
        console.log(`Batch ${b.id} (${b.name}): ${b.contacts} contacts, inactive. Activate it with:`);
        console.log(`  curl -X POST localhost:${config.port}/contacts/batches/${b.id}/activate`);
      }
    } else {
      console.log('No old-schema contacts table: already up to date, nothing changed.');
    }
    console.log(`integrity_check: ${s.integrity}; foreign_key_check: ${s.foreignKeyProblems} problems.`);
    return s.integrity === 'ok' && s.foreignKeyProblems === 0 ? 0 : 1;
  } finally {
    db.$client.close();
  }
}

try {
  process.exit(main());
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : `Migration failed, nothing was changed: ${String(e)}`);
  process.exit(1);
}
