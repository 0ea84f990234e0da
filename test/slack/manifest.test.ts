import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';

/** The manifest fields coldbatch relies on (api.slack.com/reference/manifests). */
const manifestSchema = z.object({
  display_information: z
    .object({ name: z.string().min(1).max(35), description: z.string().max(140) })
    .loose(),
  features: z
    .object({
      app_home: z.object({ home_tab_enabled: z.literal(true), messages_tab_enabled: z.boolean() }).loose(),
      bot_user: z.object({ display_name: z.string().min(1).max(80) }).loose(),
      slash_commands: z.array(
        z
          .object({
            command: z.string().regex(/^\/[a-z0-9_-]+$/),
            description: z.string().min(1).max(100),
            usage_hint: z.string().max(100).optional(),
            url: z.url().optional(),
          })
          .strict()
          .or(z.object({ command: z.string(), description: z.string(), should_escape: z.boolean() }).loose()),
      ),
    })
    .loose(),
  oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }).strict() }).strict(),
  settings: z
    .object({
      event_subscriptions: z
        .object({ bot_events: z.array(z.string()), request_url: z.url().optional() })
        .strict(),
      interactivity: z.object({ is_enabled: z.literal(true), request_url: z.url().optional() }).strict(),
      socket_mode_enabled: z.boolean(),
    })
    .loose(),
});

const manifest = manifestSchema.parse(
  parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8')),
);

describe('manifest.yml', () => {
  it('asks for the fewest bot scopes that do the job (no channel history)', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      ['chat:write', 'commands', 'files:read', 'files:write', 'im:write'].sort(),
    );
  });

  it('subscribes to the events and declares the commands the app handles', () => {
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual([
      'app_home_opened',
      'file_shared',
    ]);
    expect(manifest.features.slash_commands.map((c) => c.command).sort()).toEqual([
      '/batches',
      '/campaigns',
      '/contacts',
    ]);
  });

  it('subscribes to every event a listener waits for (a listener Slack never sends to is dead code)', () => {
    const dir = new URL('../../src/slack/listeners/events/', import.meta.url);
    const listened = readdirSync(dir).flatMap((f) =>
      [...readFileSync(new URL(f, dir), 'utf8').matchAll(/app\.event\('([a-z_.]+)'/g)].map((m) => m[1]),
    );
    expect(listened.length).toBeGreaterThan(0);
    for (const event of listened) expect(manifest.settings.event_subscriptions.bot_events).toContain(event);
  });

  it('runs in Socket Mode as written, or in HTTP mode with every URL at /slack/events', () => {
    const s = manifest.settings;
    if (s.socket_mode_enabled) return;
    const urls = [s.event_subscriptions.request_url, s.interactivity.request_url];
    for (const u of urls) expect(u).toMatch(/\/slack\/events$/);
  });
});
