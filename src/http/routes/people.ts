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

  r.get('/contacts/why', (req, res) => {
    const { email } = emailQuery.parse(req.query);
    res.json(services.people.why(email));
  });

  r.get('/contacts/export', (req, res) => {
    const { email } = emailQuery.parse(req.query);
    const person = services.people.exportPerson(email, 'api');
    res.set('Content-Disposition', `attachment; filename="person-${person.emailHash.slice(0, 12)}.json"`);
    res.json(person);
  });

  r.delete('/contacts/person', (req, res) => {
    const { email } = emailQuery.parse(req.query);
    res.json({ erased: services.people.forgetPerson(email, 'api') });
  });

  return r;
}
