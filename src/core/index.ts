import { AudienceService } from './audience/audience-service.js';
import { BatchService } from './batches/batch-service.js';
import { ContactService } from './contacts/contact-service.js';
import { ImportService } from './imports/import-service.js';
import { InboxService } from './inbox/file-claims.js';
import type { CoreDeps } from './types.js';

export type Services = {
  batches: BatchService;
  contacts: ContactService;
  imports: ImportService;
  audience: AudienceService;
  inbox: InboxService;
};

/** Builds every core service over the same database, logger and clock. */
export function createServices(deps: CoreDeps, limits: { importMaxBytes: number }): Services {
  return {
    batches: new BatchService(deps),
    contacts: new ContactService(deps),
    imports: new ImportService(deps, { maxBytes: limits.importMaxBytes }),
    audience: new AudienceService(deps),
    inbox: new InboxService(deps),
  };
}
