import { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../core/index.js';

const emailQuery = z.object({ email: z.string().trim().max(320).pipe(z.email()) });

/**
 * People's rights over REST: why an address was (not) mailed, everything held about it (export),
 * and erasing it (forget). Registered before the `/contacts/:id` routes.
 */
export function peopleRoutes(services: Services): Router {
  const r = Router();

  r.get('/contacts/why', async (req, res) => {
    const { email } = emailQuery.parse(req.query);
    res.json(await services.people.why(email));
  });

  r.get('/contacts/export', async (req, res) => {
    const { email } = emailQuery.parse(req.query);
    const person = await services.people.exportPerson(email, 'api');
    res.set('Content-Disposition', `attachment; filename="person-${person.emailHash.slice(0, 12)}.json"`);
    res.json(person);
  });

  r.delete('/contacts/person', async (req, res) => {
    const { email } = emailQuery.parse(req.query);
    res.json({ erased: await services.people.forgetPerson(email, 'api') });
  });

  return r;
}
