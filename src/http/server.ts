import express, { type Express } from 'express';
import type { Services } from '../core/index.js';
import type { Logger } from '../logger.js';
import { bearerAuth, hasApiToken } from './auth.js';
import { errorHandler, notFound } from './errors.js';
import { batchRoutes } from './routes/batches.js';
import { campaignRoutes } from './routes/campaigns.js';
import { contactRoutes } from './routes/contacts.js';
import { doctorRoutes } from './routes/doctor.js';
import { type HealthParts, healthRoutes } from './routes/health.js';
import { inboxRoutes } from './routes/inbox.js';
import { peopleRoutes } from './routes/people.js';
import { sequencePeopleRoutes } from './routes/sequence-people.js';
import { suppressionRoutes } from './routes/suppressions.js';
import { unsubscribeRoutes } from './routes/unsubscribe.js';
import { webhookRoutes } from './routes/webhooks.js';

export type HttpDeps = {
  services: Services;
  log: Logger;
  apiToken: string | undefined;
  importMaxBytes: number;
  health: HealthParts;
};

/** The Express app: REST routes behind bearer auth, JSON errors. Other transports may mount on it first. */
export function createHttpApp(deps: HttpDeps, mount?: (app: Express) => void): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(healthRoutes(deps.health, hasApiToken(deps.apiToken)));
  app.use(unsubscribeRoutes(deps.services));
  mount?.(app);
  app.use(bearerAuth(deps.apiToken));
  app.use(express.json({ limit: '100kb' }));
  app.use(suppressionRoutes(deps.services));
  app.use(peopleRoutes(deps.services));
  app.use(contactRoutes(deps.services, { importMaxBytes: deps.importMaxBytes }));
  app.use(batchRoutes(deps.services));
  app.use(campaignRoutes(deps.services));
  app.use(sequencePeopleRoutes(deps.services));
  app.use(webhookRoutes(deps.services));
  app.use(inboxRoutes(deps.services));
  app.use(doctorRoutes(deps.services));
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
