/**
 * The import case in a process of its own (`bench/run.ts` spawns it): peak RSS and event-loop
 * blocks are then the import's, not those of the benchmark that generated a million rows and
 * seeded a database before it. Prints one JSON line.
 */
import { createReadStream } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/core/index.js';
import { openDb } from '../src/db/client.js';
import { sqliteStores } from '../src/db/sqlite/stores.js';
import { createLogger } from '../src/logger.js';
import { createMailer } from '../src/mail/index.js';
import { measure } from './util.js';

const [dbPath, csv] = process.argv.slice(2);
if (!dbPath || !csv) throw new Error('usage: import-process.ts <database> <csv>');
const log = createLogger('silent');
const config = loadConfig({
  IMPORT_MAX_BYTES: '4GB',
  LOG_LEVEL: 'silent',
  MAIL_POSTAL_ADDRESS: 'Bench St 1',
  MAIL_FROM: 'b@bench.test',
  VALIDATE_ON_IMPORT: 'false', // DNS lookups are not what this measures
});
const db = openDb(dbPath);
const services = createServices(
  { log, clock: { now: () => Date.now() } },
  sqliteStores(db),
  config,
  createMailer({ outboxDir: `${dbPath}.outbox`, log }),
);
const m = await measure(() =>
  services.imports.importFile({
    source: createReadStream(csv),
    fileName: 'import.csv',
    origin: 'cli',
    actor: 'bench',
  }),
);
db.$client.close();
console.log(
  JSON.stringify({
    ms: m.ms,
    peakRssMb: m.peakRssMb,
    startRssMb: m.startRssMb,
    maxBlockMs: m.maxBlockMs,
    batchId: m.result.batch.id,
    imported: m.result.report.imported,
  }),
);
