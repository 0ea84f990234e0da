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

  r.post('/contacts/suppressions/domains', (req, res) => {
    res.status(201).json(rules.add(domainRuleInputSchema.parse(jsonBody(req)), 'api'));
  });

  r.get('/contacts/suppressions/domains', (_req, res) => {
    res.json({ rules: rules.list() });
  });

  r.delete('/contacts/suppressions/domains/:pattern', (req, res) => {
    res.json({ rule: rules.remove(patternParam.parse(req.params).pattern, 'api') });
  });

  return r;
}
