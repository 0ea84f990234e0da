import { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../core/index.js';
import { webhookDeliveryStates } from '../../core/types.js';

const listQuery = z.object({
  state: z.enum(webhookDeliveryStates).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
});

/** The outgoing webhooks' delivery log: thin over WebhookService. */
export function webhookRoutes(services: Services): Router {
  const r = Router();
  r.get('/webhooks/deliveries', async (req, res) => {
    res.json(await services.webhooks.list(listQuery.parse(req.query)));
  });
  return r;
}
