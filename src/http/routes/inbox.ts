import { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../core/index.js';
import { inboxMessageKinds } from '../../core/types.js';

const listQuery = z.object({
  kind: z.enum(inboxMessageKinds).optional(),
  campaign: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
});

/** What the inbox read (INBOX_URL) and what it was matched to: thin over MailboxService. */
export function inboxRoutes(services: Services): Router {
  const r = Router();
  r.get('/inbox/messages', async (req, res) => {
    const { campaign, ...q } = listQuery.parse(req.query);
    res.json(await services.mailbox.list({ ...q, campaignId: campaign }));
  });
  return r;
}
