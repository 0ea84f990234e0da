import type { Readable } from 'node:stream';
import { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../core/index.js';
import { contactStatuses } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { jsonBody } from '../json-body.js';
import { receiveUpload } from '../upload.js';

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

/** Drains what is left of a request body so the connection can be reused after an early answer. */
function drain(req: Readable) {
  req.unpipe();
  req.resume();
}

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
          options: upload.fields.then((f) => ({ ...query, ...importOptions.parse(f) })),
        });
        res.status(201).json({ batch: result.batch, report: result.report, replaced: result.replaced });
        return;
      }
      if (/^(text\/(csv|plain|tab-separated-values)|application\/(octet-stream|csv))/i.test(type)) {
        const result = await services.imports.importFile({
          source: req,
          fileName: query.name || 'upload.csv',
          origin: 'api',
          actor: 'api',
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
      res.set('Connection', 'close');
      drain(req);
      throw e;
    }
  });

  r.put('/contacts/:id/status', (req, res) => {
    const { id } = idParam.parse(req.params);
    const body = statusBody.parse(jsonBody(req));
    res.json({ contact: services.contacts.setStatus(id, body.status, 'api', body.reason) });
  });

  r.delete('/contacts/:id', (req, res) => {
    const { id } = idParam.parse(req.params);
    services.contacts.delete(id, 'api', 'deleted through the API');
    res.status(204).end();
  });

  return r;
}
