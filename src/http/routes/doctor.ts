import { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../core/index.js';

const query = z.object({ fresh: z.enum(['true', 'false', '1', '0']).optional() });

/**
 * GET /doctor: the domain doctor's report (PRODUCT §9): each From domain's SPF, DKIM, DMARC and
 * MX, then the general checks, with `worst`. Kept a few minutes; `?fresh=true` checks again.
 */
export function doctorRoutes(services: Services): Router {
  const r = Router();
  r.get('/doctor', async (req, res) => {
    const { fresh } = query.parse(req.query);
    res.json(await services.doctor.run({ fresh: fresh === 'true' || fresh === '1' }));
  });
  return r;
}
