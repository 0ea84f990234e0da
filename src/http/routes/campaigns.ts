import { Router } from 'express';
import { z } from 'zod';
import { campaignInputSchema, scheduleInputSchema } from '../../core/campaigns/campaign.js';
import { resendUnknownConfirmation } from '../../core/campaigns/campaign-service.js';
import type { Services } from '../../core/index.js';
import { campaignStatuses } from '../../core/types.js';
import { sendCsv } from '../csv.js';
import { jsonBody } from '../json-body.js';

const idParam = z.object({ id: z.string().min(1).max(100) });
const retryBody = z.object({
  includeUnknown: z.boolean().optional(),
  confirm: z.literal(resendUnknownConfirmation).optional(),
});
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
  status: z.enum(campaignStatuses).optional(),
});

/** Campaign routes of PRODUCT.md section 5: thin over CampaignService. */
export function campaignRoutes(services: Services): Router {
  const r = Router();
  const { campaigns } = services;
  // Until a campaign is finished it carries `audience: {count, excluded, batch}`: who it would reach now.
  const withCounts = (id: string) => {
    const { campaign, counts, audience } = campaigns.detail(id);
    return { campaign: { ...campaign, counts, ...(audience ? { audience } : {}) } };
  };

  r.post('/campaigns', (req, res) => {
    const created = campaigns.create(campaignInputSchema.parse(jsonBody(req)), 'api');
    res.status(201).json(withCounts(created.id));
  });

  r.get('/campaigns', (req, res) => {
    res.json(campaigns.list(listQuery.parse(req.query)));
  });

  r.get('/campaigns/:id/export', async (req, res) => {
    const { id } = idParam.parse(req.params);
    await sendCsv(res, `${id}-results.csv`, campaigns.exportResults(id));
  });

  r.get('/campaigns/:id', (req, res) => {
    res.json(withCounts(idParam.parse(req.params).id));
  });

  r.post('/campaigns/:id/schedule', (req, res) => {
    const { id } = idParam.parse(req.params);
    campaigns.schedule(id, scheduleInputSchema.parse(jsonBody(req)), 'api');
    res.json(withCounts(id));
  });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    r.post(`/campaigns/:id/${action}`, (req, res) => {
      const { id } = idParam.parse(req.params);
      campaigns[action](id, 'api');
      res.json(withCounts(id));
    });
  }

  // Refused in core: the API token is not a person, so it cannot be the second one (approve in Slack).
  r.post('/campaigns/:id/approve', (req, res) => {
    const { id } = idParam.parse(req.params);
    campaigns.approve(id, 'api');
    res.json(withCounts(id));
  });

  r.post('/campaigns/:id/retry-failed', (req, res) => {
    const { id } = idParam.parse(req.params);
    const { requeued } = campaigns.retryFailed(id, 'api', retryBody.parse(jsonBody(req)));
    res.json({ requeued, ...withCounts(id) });
  });

  return r;
}
