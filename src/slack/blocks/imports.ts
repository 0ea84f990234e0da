import type { Batch, ImportReport } from '../../core/batches/batch.js';
import type { UndoImportOutcome } from '../../core/batches/batch-service.js';
import type { QueuePosition } from '../../core/imports/import-service.js';
import { esc } from '../kit/escape.js';
import { actionIds } from './action-ids.js';
import { reportLine } from './batches.js';
import type { KnownBlock } from './common.js';
import { button, code, context, n, text } from './common.js';

/** The thread reply while an import waits for a slot (IMPORT slots are shared with REST uploads). */
export function queuedBlocks(fileName: string, q: QueuePosition): KnownBlock[] {
  const waiting =
    q.ahead > 0 ? ` and ${n(q.ahead)} more ${q.ahead === 1 ? 'is' : 'are'} waiting ahead of it` : '';
  return [
    text(
      `:double_vertical_bar: Queued: ${n(q.running)} imports are running${waiting}; ` +
        `*${esc(fileName)}* starts when one finishes. Nothing to do: this message changes when it does.`,
    ),
  ];
}

export function importProgressBlocks(fileName: string, rows: number): KnownBlock[] {
  return [text(`:hourglass_flowing_sand: Importing *${esc(fileName)}*… ${n(rows)} rows read so far.`)];
}

/** The threaded answer to a CSV drop: the batch, the report, what it replaced, Undo and Show contacts. */
export function importResultBlocks(r: {
  batch: Batch;
  report: ImportReport;
  replaced: Batch | null;
}): KnownBlock[] {
  const { batch, report, replaced } = r;
  const state =
    batch.status === 'active'
      ? `It is now the *active* batch${replaced ? `; ${code(replaced.id)} (${esc(replaced.name)}) is no longer active` : ''}.`
      : 'It was imported *inactive*.';
  const blocks: KnownBlock[] = [
    text(`:white_check_mark: Imported *${esc(batch.name)}* as batch ${code(batch.id)}. ${state}`),
    text(`*Report*: ${reportLine(report)}.`),
  ];
  if (report.errors.length > 0) {
    const shown = report.errors.slice(0, 5).map((e) => `line ${e.line}: ${esc(e.reason)}`);
    const more = report.invalid > shown.length ? ` (and ${n(report.invalid - shown.length)} more)` : '';
    blocks.push(context(`Invalid rows${more}:\n${shown.join('\n')}`));
  }
  blocks.push({
    type: 'actions',
    block_id: `import:${batch.id}`,
    elements: [
      button(
        replaced ? 'Undo (reactivate previous)' : 'Undo (deactivate)',
        actionIds.importUndo,
        JSON.stringify({ batchId: batch.id, previousId: replaced?.id ?? null }),
        'danger',
      ),
      button(
        'Show contacts',
        actionIds.batchDetails,
        JSON.stringify({ id: batch.id, view: 'import', page: null }),
      ),
    ],
  });
  return blocks;
}

export function importUndoneBlocks(batch: Batch, previous: Batch | null): KnownBlock[] {
  return [
    text(
      previous
        ? `:leftwards_arrow_with_hook: Undone: ${code(previous.id)} (${esc(previous.name)}) is active again; ${code(batch.id)} is inactive.`
        : `:leftwards_arrow_with_hook: Undone: ${code(batch.id)} is inactive; no batch is active.`,
    ),
  ];
}

/** Why an old reply's Undo changed nothing: which batch is active now, and how to get the previous one back. */
export function undoTooLateText(o: Extract<UndoImportOutcome, { kind: 'not_active' }>): string {
  const named = (b: Batch) => `${code(b.id)} (${esc(b.name)})`;
  const now = o.active
    ? `batch ${named(o.active)} is the active batch now, and this import's batch ${code(o.batch.id)} is not`
    : `this import's batch ${code(o.batch.id)} is no longer active, and no batch is active now`;
  if (o.previous && o.active?.id === o.previous.id)
    return `:information_source: Nothing to undo: ${named(o.previous)}, the batch this import replaced, is the active batch again.`;
  const back = o.previous
    ? ` This import replaced ${named(o.previous)}: to use it again, \`/batches activate ${o.previous.id}\` (or its Activate button in \`/batches list\`).`
    : ` To use this import's batch again, \`/batches activate ${o.batch.id}\`.`;
  return `:information_source: Nothing was undone: ${now}.${back}`;
}
