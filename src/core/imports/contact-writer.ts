import { DomainMatcher } from '../suppression/domain-suppression-service.js';
import type { ContactImportStore, ImportPart, WriteCounts } from './contact-import-store.js';

export type { WriteCounts } from './contact-import-store.js';

/** Whole-domain suppression rules as a per-row test (the store reads the rules in each chunk's transaction). */
const domainRules = (patterns: string[]) => {
  const matcher = new DomainMatcher(patterns);
  return (email: string) => matcher.matches(email);
};

/**
 * Writes validated rows into an importing batch through the store, one chunk (one transaction)
 * per call, and adds what each chunk did to the import's report: suppressed addresses (by hash
 * or whole domain) left out, new ones inserted, the rest repeated in the file or held by another
 * batch (`holders`, by batch id).
 */
export class ContactWriter {
  constructor(private readonly store: ContactImportStore) {}

  /** Writes one chunk and adds its counts to `report` and `holders`. */
  async write(
    batchId: string,
    parts: ImportPart[],
    report: WriteCounts,
    holders: Map<string, number>,
    now: number,
  ): Promise<void> {
    const written = await this.store.writeChunk(batchId, parts, now, domainRules);
    report.imported += written.imported;
    report.duplicateInFile += written.duplicateInFile;
    report.existing += written.existing;
    report.suppressed += written.suppressed;
    for (const [id, n] of written.holders) holders.set(id, (holders.get(id) ?? 0) + n);
  }
}
