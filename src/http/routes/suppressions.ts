import { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../core/index.js';
import { domainRuleInputSchema } from '../../core/suppression/domain-suppression-service.js';
import { jsonBody } from '../json-body.js';

const patternParam = z.object({ pattern: z.string().min(1).max(300) });

/** Whole-domain suppressions: thin over DomainSuppressionService. */
export function suppressionRoutes(services: Services): Router {
  const r = Router();
  const rules = services.domainSuppressions;

  r.post('/contacts/suppressions/domains', async (req, res) => {
    res.status(201).json(await rules.add(domainRuleInputSchema.parse(jsonBody(req)), 'api'));
  });

  r.get('/contacts/suppressions/domains', async (_req, res) => {
    res.json({ rules: await rules.list() });
  });

  r.delete('/contacts/suppressions/domains/:pattern', async (req, res) => {
    res.json({ rule: await rules.remove(patternParam.parse(req.params).pattern, 'api') });
  });

  return r;
}
