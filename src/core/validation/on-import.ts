import { type ImportRequest, type ImportResult, ImportService } from '../imports/import-service.js';
import type { ValidationService } from './validation-service.js';

type ImportServiceArgs = ConstructorParameters<typeof ImportService>;

/**
 * The import engine, unchanged, followed by the validation of each imported batch in the
 * background (VALIDATE_ON_IMPORT): the import's answer never waits for DNS.
 */
export class ValidatingImportService extends ImportService {
  private readonly validationLog;
  constructor(
    deps: ImportServiceArgs[0],
    limits: ImportServiceArgs[1],
    store: ImportServiceArgs[2],
    batches: ImportServiceArgs[3],
    private readonly validation: Pick<ValidationService, 'start'>,
  ) {
    super(deps, limits, store, batches);
    this.validationLog = deps.log.child({ module: 'validation' });
  }

  override async importFile(req: ImportRequest): Promise<ImportResult> {
    const result = await super.importFile(req);
    // Not awaited: the resolver check and the run go on in the background (a dns_unavailable
    // outcome is kept in the batch's validation summary).
    this.validation.start(result.batch.id, 'system').catch((err: unknown) => {
      this.validationLog.error(
        { err, batchId: result.batch.id },
        'could not start validation after the import',
      );
    });
    return result;
  }
}
