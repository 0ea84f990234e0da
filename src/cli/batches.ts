import { z } from 'zod';
import { type Batch, batchIdPattern } from '../core/batches/batch.js';
import { batchStatuses } from '../core/types.js';
import {
  cliActor,
  parseArg,
  parseResourceCommand,
  runCli,
  shortTime,
  table,
  UsageError,
  withCore,
} from './cli-kit.js';

const usage = `Usage: npm run batches -- [command] [options]   (default: list)

  list [--status active|inactive|importing] [--limit N] [--cursor C]
                               batches, newest first
  show <batch id>              one batch: counts, validation, history
  activate <batch id>          make it the only batch campaigns reach (the active one is deactivated)
  activate <batch id> at <time> | in <duration>
                               later: "at 2026-12-01 09:00 America/Sao_Paulo", "in 2h"
  deactivate <batch id>        no batch is active afterwards
  include-invalid <batch id> on|off
                               let campaigns reach its contacts whose domain receives no mail

  --reason TEXT                kept in the batch's history (activate, deactivate)
  --json                       print JSON instead of text
  -h, --help                   show this help

Changes are recorded with the actor "cli". The running app sees them at once (same database).`;

const batchId = z.string().regex(batchIdPattern, 'must look like batch_1a2b3c4d_1703123456');
const onOff = z.enum(['on', 'off'], 'must be on or off');

/** `npm run batches -- …`: list, show, activate and deactivate batches from a shell, over the app's core. */
async function main(): Promise<number> {
  const { values, command, id, rest, out } = parseResourceCommand();
  const needId = () => parseArg(batchId, id, `${command}: the batch id`);

  switch (command) {
    case 'list': {
      const query = {
        status: parseArg(z.enum(batchStatuses).optional(), values.status, '--status'),
        limit: parseArg(z.coerce.number().int().min(1).max(200).optional(), values.limit, '--limit'),
        cursor: values.cursor,
      };
      noMore(rest, id);
      return withCore(async (core) => {
        const page = await core.services.batches.list(query);
        out(page, () => listText(page.batches, page.nextCursor));
      });
    }
    case 'show': {
      const bid = needId();
      noMore(rest);
      return withCore(async (core) => {
        const details = {
          batch: await core.services.batches.get(bid),
          contactsByStatus: await core.services.batches.statusCounts(bid),
          validation: await core.services.validation.counts(bid),
          events: await core.services.batches.events(bid),
        };
        out(details, () => showText(details));
      });
    }
    case 'activate': {
      const bid = needId();
      const [word, ...when] = rest;
      if (word === 'at' || word === 'in') {
        if (when.length === 0) throw new UsageError(`activate: give a time after "${word}".`);
        const text = word === 'in' ? rest.join(' ') : when.join(' ');
        return withCore(async (core) => {
          const s = await core.services.scheduledActivations.scheduleFromText(bid, text, cliActor);
          out({ scheduledActivation: s }, () => `${s.batchId} will become the active batch at ${s.at}.`);
        });
      }
      noMore(rest);
      return withCore(async (core) => {
        const before = await core.services.batches.getActive();
        const batch = await core.services.batches.activate(bid, cliActor, values.reason);
        const replaced = before && before.id !== batch.id ? ` ${before.id} is no longer active.` : '';
        out(
          { batch },
          () => `${batch.id} is now the active batch (${batch.contactCount} contacts).${replaced}`,
        );
      });
    }
    case 'deactivate': {
      const bid = needId();
      noMore(rest);
      return withCore(async (core) => {
        const batch = await core.services.batches.deactivate(bid, cliActor, values.reason);
        out({ batch }, () => `${batch.id} is inactive; no batch receives campaigns until one is activated.`);
      });
    }
    case 'include-invalid': {
      const bid = needId();
      const [value, ...more] = rest;
      const on = parseArg(onOff, value, 'include-invalid: the setting') === 'on';
      noMore(more);
      return withCore(async (core) => {
        const batch = await core.services.validation.setIncludeInvalidDomains(bid, on, cliActor);
        out({ batch }, () =>
          on
            ? `Campaigns now also reach the contacts of ${batch.id} whose domain receives no mail.`
            : `Campaigns skip the contacts of ${batch.id} whose domain receives no mail.`,
        );
      });
    }
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

/** Refuses words left over after a command's arguments. */
function noMore(rest: string[], ...also: (string | undefined)[]): void {
  const extra = [...also.filter((x) => x !== undefined), ...rest];
  if (extra.length > 0) throw new UsageError(`Unexpected: ${extra.join(' ')}.`);
}

function listText(batches: Batch[], nextCursor: string | null): string {
  if (batches.length === 0) return 'No batches yet: import a CSV (npm run import -- contacts.csv).';
  const rows = batches.map((b) => [b.id, b.status, String(b.contactCount), shortTime(b.createdAt), b.name]);
  const more = nextCursor ? `\nMore: npm run batches -- list --cursor ${nextCursor}` : '';
  return table([['ID', 'STATUS', 'CONTACTS', 'CREATED', 'NAME'], ...rows]) + more;
}

function showText(d: {
  batch: Batch;
  contactsByStatus: Record<string, number>;
  validation: Record<string, number>;
  events: { kind: string; actor: string; reason: string | null; at: string }[];
}): string {
  const b = d.batch;
  const counts = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
  const lines = [
    `${b.id}  ${b.name}`,
    `status: ${b.status}   contacts: ${b.contactCount}   source: ${b.source}   created by: ${b.createdBy}`,
    `created: ${shortTime(b.createdAt)}   activated: ${shortTime(b.activatedAt)}   deactivated: ${shortTime(b.deactivatedAt)}`,
    `contacts by status: ${counts(d.contactsByStatus)}`,
    `validation: ${counts(d.validation)}${b.includeInvalidDomains ? ' (campaigns include invalid domains)' : ''}`,
  ];
  if (b.report) {
    const r = b.report;
    lines.push(
      `import: ${r.rows} rows, ${r.imported} imported, ${r.invalid} invalid, ${r.duplicateInFile} repeated, ${r.existing} already known, ${r.suppressed} suppressed`,
    );
  }
  lines.push('history:');
  for (const e of d.events)
    lines.push(`  ${shortTime(e.at)}  ${e.kind} by ${e.actor}${e.reason ? ` (${e.reason})` : ''}`);
  return lines.join('\n');
}

runCli('npm run batches', usage, main);
