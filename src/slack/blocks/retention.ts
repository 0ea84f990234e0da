import type { RetentionProposal } from '../../core/batches/retention.js';
import { esc } from '../kit/escape.js';
import { actionIds } from './action-ids.js';
import { button, type KnownBlock, localTime, n, text } from './common.js';

/** A batch past RETENTION_DAYS, with its "Delete batch" button (the value is the batch id). */
export function proposalBlocks(p: RetentionProposal, days: number): KnownBlock[] {
  return [
    text(
      `:hourglass: Batch *${esc(p.name)}* \`${p.batchId}\` (${n(p.contactCount)} contacts) has been inactive since ` +
        `${localTime(p.since)}, longer than RETENTION_DAYS (${days} days). Delete it and its contacts? ` +
        'Suppressions and the ledger’s hashes stay. Nothing is deleted unless someone clicks.',
    ),
    { type: 'actions', elements: [button('Delete batch', actionIds.retentionDelete, p.batchId, 'danger')] },
  ];
}

/** What the "Delete batch" button deleted. */
export function batchDeletedText(
  userId: string,
  done: { name: string; batchId: string; contacts: number },
): string {
  return (
    `:wastebasket: <@${userId}> deleted batch *${esc(done.name)}* \`${done.batchId}\` and its ` +
    `${n(done.contacts)} contacts. Suppressions and the send ledger's hashes are kept.`
  );
}
