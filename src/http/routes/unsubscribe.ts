import express, { Router } from 'express';
import { z } from 'zod';
import { escapeHtml } from '../../core/campaigns/template.js';
import type { Services } from '../../core/index.js';

const tokenParam = z.object({ token: z.string().min(1).max(200) });

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

const invalid = page(
  'This link is not valid',
  '<p>The unsubscribe link is incomplete or was changed. Use the link from the e-mail as it is.</p>',
);

/**
 * GET /u/<token>: a confirmation page (link scanners must not unsubscribe people);
 * POST /u/<token>: unsubscribes at once and answers 200, also for RFC 8058 one-click (no cookies, no redirect).
 */
export function unsubscribeRoutes(services: Services): Router {
  const r = Router();
  r.get('/u/:token', async (req, res) => {
    const { token } = tokenParam.parse(req.params);
    const target = await services.unsubscribe.inspect(token);
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');
    if (!target) {
      res.status(404).type('html').send(invalid);
      return;
    }
    if (target.alreadyUnsubscribed) {
      res.type('html').send(page('You are unsubscribed', '<p>You will not receive these e-mails again.</p>'));
      return;
    }
    res
      .type('html')
      .send(
        page(
          'Unsubscribe?',
          `<p>Stop receiving e-mails like “${escapeHtml(target.campaignName)}”?</p>` +
            `<form method="post" action="/u/${encodeURIComponent(token)}"><button type="submit">Unsubscribe</button></form>`,
        ),
      );
  });
  r.post('/u/:token', express.urlencoded({ extended: false, limit: '2kb' }), async (req, res) => {
    const { token } = tokenParam.parse(req.params);
    res.set('Cache-Control', 'no-store');
    if (!(await services.unsubscribe.unsubscribe(token))) {
      res.status(404).type('html').send(invalid);
      return;
    }
    res
      .status(200)
      .type('html')
      .send(page('You are unsubscribed', '<p>You will not receive these e-mails again.</p>'));
  });
  return r;
}
