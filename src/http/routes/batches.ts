import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../core/index.js';
import { batchStatuses, contactStatuses } from '../../db/schema.js';

const limit = z.coerce.number().int().min(1).max(500).optional();
const listQuery = z.object({
  limit,
  cursor: z.string().max(500).optional(),
  status: z.enum(batchStatuses).optional(),
});
const contactsQuery = z.object({
  limit,
  cursor: z.string().max(500).optional(),
  status: z.enum(contactStatuses).optional(),
  q: z.string().max(200).optional(),
});
const idParam = z.object({ id: z.string().min(1).max(100) });
const reasonBody = z.object({ reason: z.string().trim().max(500).optional() });

export function batchRoutes(services: Services): Router {
  const r = Router();

  r.get('/contacts/batches', (req, res) => {
    res.json(services.batches.list(listQuery.parse(req.query)));
  });

  r.get('/contacts/batches/:id', (req, res) => {
    const { id } = idParam.parse(req.params);
    res.json(services.batches.contacts(id, contactsQuery.parse(req.query)));
  });

  r.post('/contacts/batches/:id/activate', (req, res) => {
    const { id } = idParam.parse(req.params);
    const { reason } = reasonBody.parse(req.body ?? {});
    res.json({ batch: services.batches.activate(id, 'api', reason) });
  });

  r.post('/contacts/batches/:id/deactivate', (req, res) => {
    const { id } = idParam.parse(req.params);
    const { reason } = reasonBody.parse(req.body ?? {});
    res.json({ batch: services.batches.deactivate(id, 'api', reason) });
  });

  r.get('/contacts/batches/:id/export', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const csv = services.batches.exportCsv(id);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="${id}.csv"`);
    await pipeline(Readable.from(csv), res);
  });

  return r;
}
