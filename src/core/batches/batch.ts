import { z } from 'zod';
import type { Actor, BatchSource, BatchStatus } from '../types.js';
import { toIso } from '../types.js';

export type ImportReport = {
  rows: number;
  imported: number;
  invalid: number;
  duplicateInFile: number;
  existing: number;
  suppressed: number;
  durationMs: number;
  errors: { line: number; reason: string }[];
};

export const importReportSchema: z.ZodType<ImportReport> = z.object({
  rows: z.number(),
  imported: z.number(),
  invalid: z.number(),
  duplicateInFile: z.number(),
  existing: z.number(),
  suppressed: z.number(),
  durationMs: z.number(),
  errors: z.array(z.object({ line: z.number(), reason: z.string() })),
});

/** A batch as every transport shows it. */
export type Batch = {
  id: string;
  name: string;
  source: BatchSource;
  status: BatchStatus;
  createdBy: string;
  createdAt: string;
  activatedAt: string | null;
  deactivatedAt: string | null;
  contactCount: number;
  report: ImportReport | null;
  fileSha256: string | null;
  replacedBatchId: string | null;
  /** An admin lets campaigns reach its contacts whose domain cannot receive mail (validation). */
  includeInvalidDomains: boolean;
};

export type BatchRow = {
  id: string;
  name: string;
  source: BatchSource;
  status: BatchStatus;
  createdBy: string;
  createdAt: number;
  activatedAt: number | null;
  deactivatedAt: number | null;
  report: string | null;
  fileSha256: string | null;
  contactCount: number;
  replacedBatchId: string | null;
  includeInvalidDomains: boolean;
};

export function toBatch(row: BatchRow): Batch {
  return {
    id: row.id,
    name: row.name,
    source: row.source,
    status: row.status,
    createdBy: row.createdBy,
    createdAt: toIso(row.createdAt)!,
    activatedAt: toIso(row.activatedAt),
    deactivatedAt: toIso(row.deactivatedAt),
    contactCount: row.contactCount,
    report: row.report ? importReportSchema.parse(JSON.parse(row.report)) : null,
    fileSha256: row.fileSha256,
    replacedBatchId: row.replacedBatchId,
    includeInvalidDomains: row.includeInvalidDomains,
  };
}

/** `batch_<8 lowercase hex>_<unix seconds>`: defined with the other storage keys in core/keys.ts. */
export { batchIdPattern } from '../keys.js';

export type BatchEvent = { kind: string; actor: string; reason: string | null; at: string };
/** What an import's Undo did: undone, or nothing because its batch is no longer the active one. */
export type UndoImportOutcome =
  | { kind: 'undone'; batch: Batch; previous: Batch | null }
  | { kind: 'not_active'; batch: Batch; active: Batch | null; previous: Batch | null };

/** The finished import the batch service writes on its batch (and activates unless told not to). */
export type FinishedImport = {
  id: string;
  name: string;
  origin: BatchSource;
  actor: Actor;
  report: ImportReport;
  sha256: string;
  activate: boolean;
};
