import { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../core/index.js';
import { contactStatuses } from '../../core/types.js';
import { DomainError, isDomainError } from '../../errors.js';
import { jsonBody } from '../json-body.js';
import { discardRest, receiveBody, receiveUpload } from '../upload.js';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const importOptions = z.object({
  name: z.string().trim().max(200).optional(),
  activate: flag.optional(),
  force: flag.optional(),
});

const idParam = z.object({ id: z.coerce.number().int().positive() });
const statusBody = z.object({
  status: z.enum(contactStatuses),
  reason: z.string().trim().max(500).optional(),
});

export function contactRoutes(services: Services, limits: { importMaxBytes: number }): Router {
  const r = Router();

  r.post('/contacts/import', async (req, res) => {
    const query = importOptions.parse(req.query);
    const type = req.get('content-type') ?? '';
    try {
      if (/^multipart\/form-data/i.test(type)) {
        const upload = await receiveUpload(req, limits.importMaxBytes);
        const result = await services.imports.importFile({
          source: upload.stream,
          fileName: upload.fileName,
          origin: 'api',
          actor: 'api',
          boundedWait: true,
          options: upload.fields.then((f) => ({ ...query, ...importOptions.parse(f) })),
        });
        res.status(201).json({ batch: result.batch, report: result.report, replaced: result.replaced });
        return;
      }
      if (/^(text\/(csv|plain|tab-separated-values)|application\/(octet-stream|csv))/i.test(type)) {
        const result = await services.imports.importFile({
          source: receiveBody(req),
          fileName: query.name || 'upload.csv',
          origin: 'api',
          actor: 'api',
          boundedWait: true,
          options: query,
        });
        res.status(201).json({ batch: result.batch, report: result.report, replaced: result.replaced });
        return;
      }
      throw new DomainError(
        'unsupported_media_type',
        'Send the CSV as multipart/form-data (field "file", e.g. curl -F file=@contacts.csv) or as a text/csv body.',
      );
    } catch (e) {
      // Answered before the body ended: the rest is read and thrown away (bounded) so the client
      // sees the answer rather than a reset connection.
      discardRest(req);
      if (isDomainError(e) && typeof e.details?.retryAfterSeconds === 'number')
        res.set('Retry-After', String(e.details.retryAfterSeconds));
      throw e;
    }
  });

  r.put('/contacts/:id/status', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const body = statusBody.parse(jsonBody(req));
    res.json({ contact: await services.contacts.setStatus(id, body.status, 'api', body.reason) });
  });

  r.delete('/contacts/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    await services.contacts.delete(id, 'api', 'deleted through the API');
    res.status(204).end();
  });

  return r;
}
