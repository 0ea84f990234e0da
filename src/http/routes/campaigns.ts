import { Router } from 'express';
import { z } from 'zod';
import { parseCampaignInput, scheduleInputSchema } from '../../core/campaigns/campaign.js';
import { resendUnknownConfirmation } from '../../core/campaigns/campaign-service.js';
import { campaignWarnings } from '../../core/campaigns/content-warnings.js';
import { withStepFigures } from '../../core/campaigns/step-figures.js';
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

/** Campaign routes of PRODUCT.md section 5: thin over CampaignService (the detail from ProgressService). */
export function campaignRoutes(services: Services): Router {
  const r = Router();
  const { campaigns, progress } = services;
  // Until a campaign is finished it carries `audience: {count, excluded, batch}`: who it would reach now.
  // The finish estimate (eta) is Slack's: it is not part of this API's campaign. `countedAt`: when
  // counts and audience were counted (a sending campaign's are those of the latest count). `rates`:
  // reply = counts.replied / counts.sent, interested = counts.interested / counts.replied. Each step
  // (and variant) carries its `counts` and `rates` ({rate, people}: people = sent, or replied); a
  // campaign with follow-ups carries `followUps: {waiting, nextDueAt}`. `history`: its last 100 status
  // changes and admin decisions, oldest first (`historyOmitted`: how many earlier ones were left out).
  const withCounts = async (id: string) => {
    const [d, h] = await Promise.all([progress.detail(id), campaigns.history(id)]);
    const history = h.history.map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
    const { campaign, counts, rates, audience, countedAt, followUps } = d;
    const counted = new Date(countedAt).toISOString();
    return {
      campaign: {
        ...campaign,
        steps: withStepFigures(campaign.steps, d.steps),
        ...(followUps ? { followUps } : {}),
        counts,
        rates,
        ...(audience ? { audience } : {}),
        countedAt: counted,
        history,
        historyOmitted: h.omitted,
      },
    };
  };

  // `steps` (PRODUCT.md §8): a problem inside it is refused naming the step and variant, 1-based.
  // `warnings`: the content check over every step and variant (never a refusal).
  r.post('/campaigns', async (req, res) => {
    const created = await campaigns.create(parseCampaignInput(jsonBody(req)), 'api');
    res.status(201).json({ ...(await withCounts(created.id)), warnings: campaignWarnings(created.steps) });
  });

  r.get('/campaigns', async (req, res) => {
    res.json(await campaigns.list(listQuery.parse(req.query)));
  });

  r.get('/campaigns/:id/export', async (req, res) => {
    const { id } = idParam.parse(req.params);
    await sendCsv(res, `${id}-results.csv`, await campaigns.exportResults(id));
  });

  r.get('/campaigns/:id', async (req, res) => {
    res.json(await withCounts(idParam.parse(req.params).id));
  });

  r.post('/campaigns/:id/schedule', async (req, res) => {
    const { id } = idParam.parse(req.params);
    await campaigns.schedule(id, scheduleInputSchema.parse(jsonBody(req)), 'api');
    res.json(await withCounts(id));
  });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    r.post(`/campaigns/:id/${action}`, async (req, res) => {
      const { id } = idParam.parse(req.params);
      await campaigns[action](id, 'api');
      res.json(await withCounts(id));
    });
  }

  // Refused in core: the API token is not a person, so it cannot be the second one (approve in Slack).
  r.post('/campaigns/:id/approve', async (req, res) => {
    const { id } = idParam.parse(req.params);
    await campaigns.approve(id, 'api');
    res.json(await withCounts(id));
  });

  // An admin's release of a campaign the domain doctor held (REST callers are admins).
  r.post('/campaigns/:id/send-anyway', async (req, res) => {
    const { id } = idParam.parse(req.params);
    await campaigns.sendAnyway(id, 'api');
    res.json(await withCounts(id));
  });

  r.post('/campaigns/:id/retry-failed', async (req, res) => {
    const { id } = idParam.parse(req.params);
    const { requeued } = await campaigns.retryFailed(id, 'api', retryBody.parse(jsonBody(req)));
    res.json({ requeued, ...(await withCounts(id)) });
  });

  return r;
}
