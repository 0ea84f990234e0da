import { Router } from 'express';
import { z } from 'zod';
import { contactFilterQuery } from '../../core/batches/contact-filter.js';
import type { Services } from '../../core/index.js';
import { batchStatuses } from '../../core/types.js';
import { sendCsv } from '../csv.js';
import { jsonBody } from '../json-body.js';

const limit = z.coerce.number().int().min(1).max(500).optional();
const listQuery = z.object({
  limit,
  cursor: z.string().max(500).optional(),
  status: z.enum(batchStatuses).optional(),
});
const contactsQuery = contactFilterQuery.extend({ limit, cursor: z.string().max(500).optional() });
const idParam = z.object({ id: z.string().min(1).max(100) });
/** PATCH /contacts/batches/{id}: mail (true) or skip (false) its contacts whose domain receives no mail. */
const patchBatchBody = z.strictObject({ includeInvalidDomains: z.boolean() });
const reasonBody = z.object({ reason: z.string().trim().max(500).optional() });
const activateBody = reasonBody.extend({
  /** When to activate: an ISO time with offset, "2026-12-01 09:00 [timezone]" or "in 2h"; absent: now. */
  at: z.string().trim().min(1).max(100).optional(),
});

export function batchRoutes(services: Services): Router {
  const r = Router();

  r.get('/contacts/batches', async (req, res) => {
    res.json(await services.batches.list(listQuery.parse(req.query)));
  });

  r.get('/contacts/batches/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const page = await services.batches.contacts(id, contactsQuery.parse(req.query));
    const { counts, run, failure } = await services.validation.summary(id);
    res.json({ ...page, validation: counts, validationRun: run, validationFailure: failure });
  });

  r.get('/contacts/batches/:id/report', async (req, res) => {
    const { id } = idParam.parse(req.params);
    res.json({ report: await services.reports.build(id) });
  });

  r.post('/contacts/batches/:id/activate', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const { reason, at } = activateBody.parse(jsonBody(req));
    if (at !== undefined) {
      // Later: stored, applied by the scheduler within a minute of `at`.
      res
        .status(202)
        .json({ scheduledActivation: await services.scheduledActivations.scheduleFromText(id, at, 'api') });
      return;
    }
    res.json({ batch: await services.batches.activate(id, 'api', reason) });
  });

  r.delete('/contacts/batches/:id/scheduled-activation', async (req, res) => {
    const { id } = idParam.parse(req.params);
    res.json({ scheduledActivation: await services.scheduledActivations.cancel(id, 'api') });
  });

  r.get('/contacts/scheduled-activations', async (_req, res) => {
    res.json({ scheduledActivations: await services.scheduledActivations.listPending() });
  });

  r.post('/contacts/batches/:id/deactivate', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const { reason } = reasonBody.parse(jsonBody(req));
    res.json({ batch: await services.batches.deactivate(id, 'api', reason) });
  });

  r.get('/contacts/batches/:id/export', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const csv = await services.batches.exportCsv(id, contactFilterQuery.parse(req.query));
    await sendCsv(res, `${id}.csv`, csv);
  });

  r.get('/contacts/suppressions/export', async (_req, res) => {
    await sendCsv(res, 'suppressions.csv', services.contacts.exportSuppressions());
  });

  // Bulk e-mail validation: 202 with the run (new or already under way) and the counts so far;
  // 503 dns_unavailable when this server's DNS lookups fail (nothing was marked).
  r.post('/contacts/batches/:id/validate', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const result = await services.validation.start(id, 'api');
    if (result.kind === 'dns_unavailable') {
      const { failure, counts } = result;
      res.status(503).json({
        started: false,
        error: { code: 'dns_unavailable', message: failure.message },
        failure,
        validation: counts,
      });
      return;
    }
    res.status(202).json({ started: result.kind === 'started', run: result.run, validation: result.counts });
  });

  r.patch('/contacts/batches/:id', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const { includeInvalidDomains } = patchBatchBody.parse(jsonBody(req));
    res.json({ batch: await services.validation.setIncludeInvalidDomains(id, includeInvalidDomains, 'api') });
  });

  return r;
}
