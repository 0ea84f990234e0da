import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { decodeCursor, encodeCursor, pageLimit } from '../pagination.js';
import { type CoreDeps, toIso, type WebhookDeliveryState } from '../types.js';
import type { DeliveryRow, WebhookStore } from './webhook-store.js';
import {
  credentialsOf,
  publicWebhookUrl,
  scrubCredentials,
  type WebhookTarget,
  webhookTarget,
} from './webhook-url.js';

/** Waits after the 1st, 2nd, … failed attempt; after the last one the delivery is `failed`. */
export const webhookRetryDelaysMs = [30_000, 120_000, 600_000, 3_600_000, 21_600_000];

/** One POST: resolves with the HTTP status, rejects on a network error or the timeout. */
export type WebhookSender = (
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
) => Promise<number>;

/** The default sender: fetch with a timeout; redirects are not followed (a 3xx is a failure). */
export const fetchSender: WebhookSender = async (url, body, headers, timeoutMs) => {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.body?.cancel().catch(() => {});
  return res.status;
};

export type WebhookSettings = {
  /** WEBHOOK_SECRET: the HMAC-SHA256 key of X-Coldbatch-Signature. */
  secret: string;
  /** WEBHOOK_URLS as configured: where the credentials of a stored (credential-less) URL come from. */
  urls?: string[];
  timeoutMs: number;
  retryDelaysMs?: number[];
};

/**
 * X-Coldbatch-Signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (the scheme of
 * Stripe and Slack). Signing the time with the body lets a receiver refuse a captured delivery
 * replayed later (older than a few minutes); each attempt is signed with its own time.
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/** A row of the delivery log as the transports show it (the body is not shown: it may hold an address). */
export type WebhookDelivery = {
  id: number;
  event: string;
  url: string;
  state: WebhookDeliveryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
};

const cursorSchema = z.number().int();
/** Deliveries posted at once per pass. */
const parallel = 8;

/**
 * The dispatcher: posts pending deliveries of the outbox, signed, with a timeout, and retries
 * failures with backoff. A delivery is claimed in the database (its next attempt moved past the
 * timeout) before the POST, so overlapping passes or a restart never post it twice at once; a
 * crash during a POST retries it later (at-least-once: receivers dedupe on the body's `id`).
 */
export class WebhookService {
  private readonly log;
  private readonly delays: number[];
  private current: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  /** Configured targets by their credential-less URL (the one stored with each delivery). */
  private readonly targets = new Map<string, WebhookTarget>();
  /** Credentials in WEBHOOK_URLS: never in lastError. */
  private readonly secrets: string[] = [];

  constructor(
    private readonly deps: Pick<CoreDeps, 'log' | 'clock'>,
    private readonly settings: WebhookSettings,
    private readonly store: WebhookStore,
    private readonly send: WebhookSender = fetchSender,
  ) {
    this.log = deps.log.child({ module: 'webhooks' });
    this.delays = settings.retryDelaysMs ?? webhookRetryDelaysMs;
    for (const raw of settings.urls ?? []) {
      const target = webhookTarget(raw);
      this.targets.set(target.url, target);
      this.secrets.push(...credentialsOf(raw));
    }
  }

  /** Posts every delivery that is due; resolves with how many were delivered (a pass asked for meanwhile runs too). */
  deliverDue(): Promise<number> {
    if (this.current !== null) {
      this.again = true;
      return this.current;
    }
    const run = async () => {
      let delivered = 0;
      try {
        do {
          this.again = false;
          delivered += await this.pass();
        } while (this.again && !this.stopped);
      } finally {
        this.current = null;
      }
      return delivered;
    };
    this.current = run();
    return this.current;
  }

  /** Asks for a pass soon (after an event was recorded); failures are logged. */
  kick(): void {
    if (this.stopped) return;
    this.deliverDue().catch((err: unknown) => this.log.error({ err }, 'webhook delivery pass failed'));
  }

  /** Waits for the pass under way; no new pass starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.catch(() => {});
  }

  /** The delivery log, newest first, by cursor; optionally one state. */
  async list(query: { state?: WebhookDeliveryState; limit?: number; cursor?: string } = {}): Promise<{
    deliveries: WebhookDelivery[];
    nextCursor: string | null;
  }> {
    const limit = pageLimit(query.limit, 200);
    const rows = await this.store.listNewestFirst({
      state: query.state,
      beforeId: query.cursor ? decodeCursor(query.cursor, cursorSchema) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      deliveries: page.map(toDelivery),
      nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
    };
  }

  private async pass(): Promise<number> {
    let delivered = 0;
    for (;;) {
      if (this.stopped) return delivered;
      const now = this.deps.clock.now();
      // Leased past the timeout: another pass (or process) leaves them alone meanwhile.
      const claimed = await this.store.claimDue({
        now,
        leaseUntil: now + this.settings.timeoutMs + 60_000,
        limit: parallel,
      });
      if (claimed.length === 0) return delivered;
      const results = await Promise.all(claimed.map((r) => this.post(r)));
      delivered += results.filter(Boolean).length;
    }
  }

  /** One attempt, settled in the log; true when delivered. */
  private async post(r: DeliveryRow): Promise<boolean> {
    const answer = await this.attempt(r);
    const now = this.deps.clock.now();
    const attempts = r.attempts + 1;
    if (answer.error === null) {
      await this.store.settle(r.id, { kind: 'delivered', attempts, status: answer.status, at: now });
      this.log.info({ deliveryId: r.id, event: r.event, attempts }, 'webhook delivered');
      return true;
    }
    const delay = this.delays[attempts - 1];
    await this.store.settle(r.id, {
      kind: 'failed',
      attempts,
      status: answer.status,
      error: answer.error.slice(0, 300),
      retryAt: delay === undefined ? null : now + delay,
    });
    this.log.warn(
      { deliveryId: r.id, event: r.event, attempts, status: answer.status, failed: delay === undefined },
      delay === undefined ? 'webhook failed for good' : 'webhook attempt failed: retried later',
    );
    return false;
  }

  /** The signed POST of one delivery: its HTTP status and why it failed (null: a 2xx). */
  private async attempt(
    r: DeliveryRow,
  ): Promise<{ status: number; error: null } | { status: number | null; error: string }> {
    // A row written before URLs were stored without credentials still carries its own.
    const own = webhookTarget(r.url);
    const target = own.authorization ? own : (this.targets.get(own.url) ?? own);
    try {
      const status = await this.send(
        target.url,
        r.payload,
        {
          'content-type': 'application/json',
          'user-agent': 'coldbatch-webhooks',
          'x-coldbatch-event': r.event,
          'x-coldbatch-delivery': String(r.id),
          'x-coldbatch-signature': signWebhook(
            this.settings.secret,
            r.payload,
            Math.floor(this.deps.clock.now() / 1000),
          ),
          ...(target.authorization ? { authorization: target.authorization } : {}),
        },
        this.settings.timeoutMs,
      );
      return status >= 200 && status < 300 ? { status, error: null } : { status, error: `HTTP ${status}` };
    } catch (e) {
      const error = scrubCredentials(describe(e, this.settings.timeoutMs), [
        ...this.secrets,
        ...credentialsOf(r.url),
      ]);
      return { status: null, error };
    }
  }
}

function describe(e: unknown, timeoutMs: number): string {
  const name = (e as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = (e as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return String(e);
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    event: r.event,
    url: publicWebhookUrl(r.url),
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: toIso(r.nextAttemptAt),
    lastStatus: r.lastStatus,
    lastError: r.lastError === null ? null : scrubCredentials(r.lastError, credentialsOf(r.url)),
    createdAt: toIso(r.createdAt)!,
    deliveredAt: toIso(r.deliveredAt),
  };
}
