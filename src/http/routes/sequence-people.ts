import { Router } from 'express';
import { z } from 'zod';
import { sequencePersonStates } from '../../core/campaigns/sequence-store.js';
import type { Services } from '../../core/index.js';

const idParam = z.object({ id: z.string().min(1).max(100) });
const personParams = idParam.extend({ contactId: z.coerce.number().int().positive() });
const listQuery = z.object({
  state: z.enum(sequencePersonStates).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(500).optional(),
});

/** A campaign's people (PRODUCT.md §8): who waits for which step, who stopped and why; "Stop sequence". */
export function sequencePeopleRoutes(services: Services): Router {
  const r = Router();
  r.get('/campaigns/:id/people', async (req, res) => {
    const { id } = idParam.parse(req.params);
    res.json(await services.sequences.people(id, listQuery.parse(req.query)));
  });
  r.post('/campaigns/:id/people/:contactId/stop', async (req, res) => {
    const { id, contactId } = personParams.parse(req.params);
    res.json({ person: await services.sequences.stop(id, contactId, 'api') });
  });
  return r;
}
