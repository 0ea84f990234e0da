/**
 * Hostile campaign input: a `from` with several addresses or a line break (the SMTP envelope
 * would take the first one), template variables named after Object.prototype, and links in the
 * HTML to anything but http(s)/mailto, written in the template or brought in by a contact's field.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseSender } from '../../src/core/campaigns/sender.js';
import { renderTemplate, type TemplateVars, validateTemplate } from '../../src/core/campaigns/template.js';
import { importText, refusal, startTestApp, testConfig } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function app() {
  const sink = await startSink();
  cleanups.push(sink.close);
  const t = await startTestApp(
    {
      SMTP_URL: sink.url,
      PUBLIC_URL: 'https://coldbatch.test',
      MAIL_POSTAL_ADDRESS: 'Rua Exemplo 100, São Paulo',
      MAIL_FROM: 'Sales <sales@coldbatch.test>',
    },
    { scheduler: false },
  );
  cleanups.push(t.stop);
  const post = async (body: Record<string, unknown>) => {
    const res = await fetch(`${t.url}/campaigns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Intro', subject: 'Hi', body: 'Hello', ...body }),
    });
    type Answer = { campaign: { id: string }; error: { code: string; message: string } };
    return { status: res.status, body: (await res.json()) as Answer };
  };
  const send = async (id: string) => {
    for (let i = 0; i < 20 && (await t.app.services.campaigns.get(id)).status !== 'completed'; i++)
      await t.app.services.sending.runDue();
    expect((await t.app.services.campaigns.get(id)).status).toBe('completed');
  };
  return { t, sink, post, send };
}

const vars: TemplateVars = {
  name: 'javascript:alert(document.cookie)',
  first_name: null,
  company: 'Acme',
  position: null,
  email: 'ana@x.com',
  unsubscribe_url: 'https://coldbatch.test/u/tok',
};

describe('campaign from: exactly one mailbox', () => {
  it('REST refuses several addresses and line breaks with a 400 that says what to write', async () => {
    const { post, t } = await app();
    for (const from of [
      'victim1@evil.com, victim2@evil.com <s@example.com>',
      'a@x.com, b@x.com',
      'a@x.com; b@x.com',
      'Sales <s@example.com>\r\nBcc: victim@evil.com',
      'Sales\n <s@example.com>',
      'Sales <s@example.com>, <t@example.com>',
      'not an address',
    ]) {
      const r = await post({ from });
      expect(r.status, from).toBe(400);
      expect(r.body.error.code).toBe('invalid_input');
      expect(r.body.error.message).toMatch(
        /sender \(from\).*(more than one address|line break|not an address)/,
      );
    }
    expect((await t.app.services.campaigns.list({})).campaigns).toHaveLength(0);
  });

  it('a single mailbox (with a display name, even a quoted one with a comma) is what the SMTP server receives', async () => {
    const { t, sink, post, send } = await app();
    await importText(t.app.services, 'email,name\nana@x.com,Ana\n');
    const r = await post({ from: '"Silva, Ana" <ana.silva@example.com>', sendAt: 'now' });
    expect(r.status).toBe(201);
    await send(r.body.campaign.id);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.from).toBe('ana.silva@example.com');
    expect(sink.received[0]!.headers.from).toBe('"Silva, Ana" <ana.silva@example.com>');
  });

  it('parseSender reads the forms people write', () => {
    expect(parseSender('sales@acme.com')).toEqual({
      ok: true,
      mailbox: { name: null, address: 'sales@acme.com' },
    });
    expect(parseSender('Ana S. Silva <ana@acme.com>')).toEqual({
      ok: true,
      mailbox: { name: 'Ana S. Silva', address: 'ana@acme.com' },
    });
    expect(parseSender('<ana@acme.com>')).toMatchObject({ ok: true });
    expect(parseSender('"Ana \\"AJ\\" Silva" <ana@acme.com>')).toMatchObject({
      ok: true,
      mailbox: { name: 'Ana "AJ" Silva' },
    });
    expect(parseSender('Ana@x.com <ana@acme.com>')).toMatchObject({ ok: false });
  });
});

describe('template variables and links', () => {
  it('{{__proto__}} and other Object.prototype names are unknown variables, with no odd suggestion', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const e = refusal(() => validateTemplate(`Hi {{${key}}}`, 'body'));
      expect(e.message).toBe(
        `Unknown variable {{${key}}} in body. Use one of: {{name}}, {{first_name}}, {{company}}, {{position}}, {{email}}, {{unsubscribe_url}}, optionally with a fallback like {{first_name|there}}.`,
      );
      expect(renderTemplate(`Hi {{${key}|there}}`, vars)).toBe('Hi there');
    }
    expect(refusal(() => validateTemplate('{{First Name}}', 'body')).message).toContain(
      '(did you mean {{first_name}}?)',
    );
  });

  it('html: a literal link to javascript:, data: or vbscript: is refused when saving', async () => {
    for (const href of [
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'java&#x09;script:alert(1)',
      '&#106;avascript:alert(1)',
      'data:text/html;base64,PHNjcmlwdD4=',
      'vbscript:msgbox(1)',
      'javascript:{{name}}',
    ]) {
      const e = refusal(() => validateTemplate(`<a href="${href}">x</a>`, 'html', { html: true }));
      expect(e.message, href).toMatch(/links may only go to http:\/\/, https:\/\/ or mailto: addresses/);
    }
    for (const ok of [
      'https://acme.com/{{company}}',
      'mailto:{{email}}',
      '{{unsubscribe_url}}',
      '#top',
      '{{name}}',
    ]) {
      expect(() => validateTemplate(`<a href="${ok}">x</a>`, 'html', { html: true })).not.toThrow();
    }
    const { post } = await app();
    const r = await post({ html: '<p><a href="javascript:alert(1)">click</a></p>' });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('"javascript:alert(1)"');
  });

  it('html: href="{{name}}" with a javascript: name renders without the link target; http(s) values stay', async () => {
    const html = `<a href="{{name}}">a</a> <a href='{{company}}'>b</a> <a class="x" href="https://acme.com/?c={{company}}">c</a>`;
    expect(renderTemplate(html, vars, { html: true })).toBe(
      `<a >a</a> <a href='Acme'>b</a> <a class="x" href="https://acme.com/?c=Acme">c</a>`,
    );
    expect(renderTemplate(html, { ...vars, name: 'https://ana.example/' }, { html: true })).toContain(
      'href="https://ana.example/"',
    );

    const { t, sink, post, send } = await app();
    await importText(t.app.services, 'email,name\nana@x.com,javascript:alert(document.cookie)\n');
    const r = await post({ html: '<p>Hi <a href="{{name}}">you</a></p>', sendAt: 'now' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await send(r.body.campaign.id);
    expect(sink.received).toHaveLength(1);
    const raw = sink.received[0]!.raw.replace(/=\r?\n/g, '');
    expect(raw).toContain('<a >you</a>');
    expect(raw.toLowerCase()).not.toMatch(/href=(3d)?"javascript/);
  });
});

describe('MAIL_FROM', () => {
  it('is refused at start when it is not one mailbox (the Slack modal has no from field: it uses MAIL_FROM)', () => {
    expect(() => testConfig({ MAIL_FROM: 'a@x.com, b@x.com <s@example.com>' })).toThrow(
      /Invalid configuration: MAIL_FROM must be one sender: it is more than one address/,
    );
    expect(testConfig({ MAIL_FROM: '"Sales, Acme" <sales@acme.com>' }).mail.from).toBe(
      '"Sales, Acme" <sales@acme.com>',
    );
  });
});
