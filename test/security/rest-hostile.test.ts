import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/core/pagination.js';
import { startTestApp, uploadCsv } from '../helpers.js';

/**
 * The REST API under hostile input (API_TOKEN set): auth failures, SQL-looking text in queries,
 * ids and cursors, path traversal in names, oversized and mistyped bodies, unknown routes.
 * Every refusal has the `{error:{code,message}}` shape and changes nothing.
 */

const token = 'hostile-test-token-0123456789';
const auth = { authorization: `Bearer ${token}` };
let url: string;
let app: Awaited<ReturnType<typeof startTestApp>>['app'];
let stop: () => Promise<void>;
let batchId: string;

type ErrorJson = { error?: { code?: unknown; message?: unknown; details?: unknown } };

async function call(path: string, init: RequestInit = {}, withAuth = true) {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { ...(withAuth ? auth : {}), ...(init.headers as Record<string, string> | undefined) },
  });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('application/json') ?? false;
  return { status: res.status, res, text, json: (isJson && text ? JSON.parse(text) : undefined) as unknown };
}

/** Asserts the JSON error shape with a non-empty message, and returns the code. */
function errorCode(r: { status: number; json: unknown; text: string }): string {
  const body = r.json as ErrorJson | undefined;
  expect(body, `status ${r.status}: ${r.text.slice(0, 200)}`).toBeDefined();
  expect(typeof body?.error?.code).toBe('string');
  expect(typeof body?.error?.message).toBe('string');
  expect(String(body?.error?.message).length).toBeGreaterThan(0);
  return String(body?.error?.code);
}

const sqlite = () => app.db.$client;
/** What must never change under hostile reads: tables, their row counts, the active batch. */
function state() {
  return {
    tables: sqlite()
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .pluck()
      .all(),
    contacts: sqlite().prepare('SELECT id, email, status, batch_id FROM contacts ORDER BY id').all(),
    batches: sqlite().prepare('SELECT id, name, status FROM batches ORDER BY id').all(),
    campaigns: sqlite().prepare('SELECT count(*) FROM campaigns').pluck().get(),
  };
}

beforeAll(async () => {
  ({ url, app, stop } = await startTestApp(
    { API_TOKEN: token, HOST: '127.0.0.1', MAIL_FROM: 'Sales <sales@coldbatch.test>' },
    { scheduler: false },
  ));
  const r = await uploadCsv(
    url,
    'email,name,company\nana@acme.com,Ana,Acme\nbruno@acme.com,Bruno,Acme\nunder_score@x.com,Under,Score Co\n',
    { headers: auth },
  );
  expect(r.status).toBe(201);
  batchId = (r.body as { batch: { id: string } }).batch.id;
});
afterAll(() => stop());

describe('REST hostile input: authentication', () => {
  const routes: [string, string][] = [
    ['GET', '/contacts/batches'],
    ['GET', '/contacts/batches/x'],
    ['POST', '/contacts/batches/x/activate'],
    ['POST', '/contacts/batches/x/deactivate'],
    ['GET', '/contacts/batches/x/export'],
    ['POST', '/contacts/import'],
    ['PUT', '/contacts/1/status'],
    ['DELETE', '/contacts/1'],
    ['GET', '/campaigns'],
    ['POST', '/campaigns'],
    ['GET', '/campaigns/x'],
    ['POST', '/campaigns/x/schedule'],
    ['POST', '/campaigns/x/pause'],
    ['POST', '/campaigns/x/resume'],
    ['POST', '/campaigns/x/cancel'],
    ['GET', '/no/such/route'],
  ];
  const badHeaders: [string, Record<string, string>][] = [
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer wrong-token-0123456789' }],
    ['token with a suffix', { authorization: `Bearer ${token}x` }],
    ['token prefix only', { authorization: `Bearer ${token.slice(0, -1)}` }],
    ['scheme without token', { authorization: 'Bearer' }],
    ['scheme and spaces', { authorization: 'Bearer    ' }],
    ['Basic scheme', { authorization: `Basic ${Buffer.from(`api:${token}`).toString('base64')}` }],
    ['token without scheme', { authorization: token }],
    ['token in another header', { 'x-api-token': token }],
    ['a huge header', { authorization: `Bearer ${'A'.repeat(8000)}` }],
  ];

  it('refuses every route with a missing, wrong or malformed bearer token: 401 and the JSON error shape', async () => {
    const before = state();
    for (const [what, headers] of badHeaders) {
      for (const [method, path] of routes) {
        const r = await call(
          path,
          {
            method,
            headers: { ...headers, 'content-type': 'application/json' },
            ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
          },
          false,
        );
        expect(r.status, `${what}: ${method} ${path}`).toBe(401);
        expect(errorCode(r)).toBe('unauthorized');
        expect(r.res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    // the token in the query string is not a credential either
    expect((await call(`/contacts/batches?access_token=${token}`, {}, false)).status).toBe(401);
    expect(state()).toEqual(before);
  });

  it('a wrong token on an import reads no file and creates nothing', async () => {
    const before = state();
    const r = await uploadCsv(url, 'email\nintruder@evil.com\n', {
      headers: { authorization: 'Bearer nope-nope-nope-nope' },
    });
    expect(r.status).toBe(401);
    expect(state()).toEqual(before);
  });

  it('accepts the scheme in any case and the right token (control)', async () => {
    expect(
      (await call('/contacts/batches', { headers: { authorization: `bearer ${token}` } }, false)).status,
    ).toBe(200);
    expect((await call('/contacts/batches')).status).toBe(200);
  });
});

describe('REST hostile input: SQL-looking text', () => {
  const injections = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DROP TABLE contacts; --',
    "'; DELETE FROM batches; --",
    '1 UNION SELECT email FROM contacts',
    '%',
    '%%',
    '_',
    '\\',
    '\\%',
    "%' OR 1=1 --",
  ];

  it('in q: wildcards are literal, quotes are text; results are empty (or the one literal match)', async () => {
    const before = state();
    for (const q of injections) {
      const r = await call(`/contacts/batches/${batchId}?q=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(200);
      const emails = (r.json as { contacts: { email: string }[] }).contacts.map((c) => c.email);
      // only "_" (and nothing else) has a literal match: under_score@x.com
      expect(emails, q).toEqual(q === '_' ? ['under_score@x.com'] : []);
    }
    expect(state()).toEqual(before);
  });

  it('in ids and cursors: 4xx with the error shape, tables intact', async () => {
    const before = state();
    for (const s of injections) {
      const e = encodeURIComponent(s);
      const cases: [string, RequestInit, number[]][] = [
        [`/contacts/batches/${e}`, {}, [404]],
        [`/contacts/batches/${e}/export`, {}, [404]],
        [`/contacts/batches/${e}/activate`, { method: 'POST' }, [404]],
        [`/contacts/batches/${e}/deactivate`, { method: 'POST' }, [404]],
        [`/contacts/batches?cursor=${e}`, {}, [400]],
        [`/contacts/batches/${batchId}?cursor=${e}`, {}, [400]],
        [`/campaigns?cursor=${e}`, {}, [400]],
        [`/campaigns/${e}`, {}, [404]],
        [`/campaigns/${e}/pause`, { method: 'POST' }, [404]],
        [`/contacts/${e}`, { method: 'DELETE' }, [400, 404]],
        [
          `/contacts/${e}/status`,
          {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ status: 'inactive' }),
          },
          [400, 404],
        ],
      ];
      for (const [path, init, statuses] of cases) {
        const r = await call(path, init);
        expect(statuses, `${init.method ?? 'GET'} ${path} → ${r.status} ${r.text.slice(0, 120)}`).toContain(
          r.status,
        );
        errorCode(r);
      }
    }
    // a well-formed cursor carrying SQL is only a value: an empty page, not an error
    const forged = encodeCursor([Date.now() + 1e9, "' OR 1=1 --"]);
    const page = await call(`/contacts/batches?cursor=${forged}`);
    expect(page.status).toBe(200);
    expect((page.json as { batches: { id: string }[] }).batches.map((b) => b.id)).toEqual([batchId]);
    const contactsPage = await call(`/contacts/batches/${batchId}?cursor=${encodeCursor('1 OR 1=1')}`);
    expect(contactsPage.status).toBe(400);
    expect(state()).toEqual(before);
  });

  it('repeated or oversized query parameters are refused, not passed on', async () => {
    for (const path of [
      `/contacts/batches/${batchId}?q=a&q=b`,
      `/contacts/batches/${batchId}?q=${'x'.repeat(5000)}`,
      `/contacts/batches?status=active&status=inactive`,
      `/contacts/batches?limit=1e309`,
      `/contacts/batches?limit=-1`,
      `/contacts/batches?status=${encodeURIComponent("active' OR 1=1 --")}`,
      `/contacts/batches?cursor=${'A'.repeat(600)}`,
    ]) {
      const r = await call(path);
      expect(r.status, path).toBe(400);
      expect(errorCode(r)).toBe('invalid_input');
    }
  });
});

describe('REST hostile input: path traversal in names', () => {
  const cwdFiles = () => readdirSync(process.cwd()).sort();
  const dataDir = () => dirname(app.config.databasePath);
  const marker = `cb-traversal-${process.pid}-${Date.now()}`;
  const traversal = [
    '../../etc/passwd',
    '..\\..\\windows\\win.ini',
    '/etc/passwd',
    `../../${marker}.csv`,
    `../../../../../../tmp/${marker}`,
  ];

  it('batch names and multipart file names are stored as text, never used as paths', async () => {
    const beforeCwd = cwdFiles();
    const beforeData = readdirSync(dataDir()).sort();
    let n = 0;
    for (const name of traversal) {
      n += 1;
      const byField = await uploadCsv(url, `email\nfield${n}@traversal.test\n`, {
        fileName: name,
        fields: { name },
        headers: auth,
      });
      expect(byField.status).toBe(201);
      expect((byField.body as { batch: { name: string } }).batch.name).toBe(name);
      const byFileName = await uploadCsv(url, `email\nfile${n}@traversal.test\n`, {
        fileName: name,
        headers: auth,
      });
      expect(byFileName.status).toBe(201);
      // multipart file names lose their directories (busboy); either way they are only text
      expect([name, name.split(/[\\/]/).pop()]).toContain(
        (byFileName.body as { batch: { name: string } }).batch.name,
      );
      const raw = await call(`/contacts/import?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: `email\nraw${n}@traversal.test\n`,
      });
      expect(raw.status).toBe(201);
      const id = (raw.json as { batch: { id: string; name: string } }).batch.id;
      expect((raw.json as { batch: { name: string } }).batch.name).toBe(name);

      // the export's file name is the batch id, whatever the batch is called
      const exp = await call(`/contacts/batches/${id}/export`);
      expect(exp.status).toBe(200);
      expect(exp.res.headers.get('content-disposition')).toBe(`attachment; filename="${id}.csv"`);
    }
    // nothing was written next to the app or outside its data folder
    expect(cwdFiles()).toEqual(beforeCwd);
    expect(readdirSync(dataDir()).sort()).toEqual(beforeData);
    for (const base of [dataDir(), join(dataDir(), 'outbox'), process.cwd()]) {
      for (const name of traversal.filter((t) => t.includes(marker))) {
        expect(existsSync(resolve(base, name)), resolve(base, name)).toBe(false);
      }
    }
  });

  it('a traversal in the export path is a 404, not a file read', async () => {
    for (const path of [
      '/contacts/batches/..%2F..%2Fetc%2Fpasswd/export',
      '/contacts/batches/%2e%2e%2f%2e%2e%2fetc%2fpasswd/export',
      '/contacts/batches/..%5C..%5Cwin.ini/export',
    ]) {
      const r = await call(path);
      expect(r.status, path).toBe(404);
      expect(errorCode(r)).toBe('not_found');
      expect(r.text).not.toMatch(/root:/);
    }
  });
});

describe('REST hostile input: bodies and routes', () => {
  let before: ReturnType<typeof state>;
  beforeEach(() => {
    before = state();
  });

  const json = (body: string, type = 'application/json') => ({
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  const campaign = JSON.stringify({ name: 'Hostile', subject: 'Hi', body: 'Body' });

  it('oversized JSON bodies → 413 too_large', async () => {
    const big = JSON.stringify({ name: 'x', subject: 's', body: 'b'.repeat(200 * 1024) });
    for (const path of ['/campaigns', `/contacts/batches/${batchId}/activate`, '/campaigns/x/schedule']) {
      const r = await call(path, json(big));
      expect(r.status, path).toBe(413);
      expect(errorCode(r)).toBe('too_large');
    }
    const put = await call('/contacts/1/status', { ...json(big), method: 'PUT' });
    expect(put.status).toBe(413);
    expect(state()).toEqual(before);
  });

  it('wrong content types on JSON routes → 415 unsupported_media_type; the body is not read as JSON', async () => {
    const types = [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'text/csv',
    ];
    for (const type of types) {
      for (const [method, path] of [
        ['POST', '/campaigns'],
        ['POST', '/campaigns/x/schedule'],
        ['PUT', '/contacts/1/status'],
        ['POST', `/contacts/batches/${batchId}/deactivate`],
      ] as const) {
        const r = await call(path, { ...json(campaign, type), method });
        expect(r.status, `${type} ${method} ${path}: ${r.text.slice(0, 120)}`).toBe(415);
        expect(errorCode(r)).toBe('unsupported_media_type');
      }
    }
    // a JSON body in an unsupported charset or encoding is refused the same way, not a 500
    const unreadable: Record<string, string>[] = [
      { 'content-type': 'application/json; charset=iso-8859-1' },
      { 'content-type': 'application/json; charset=klingon' },
      { 'content-type': 'application/json', 'content-encoding': 'compress' },
    ];
    for (const headers of unreadable) {
      const r = await call('/campaigns', { method: 'POST', headers, body: campaign });
      expect(r.status, JSON.stringify(headers)).toBe(415);
      expect(errorCode(r)).toBe('unsupported_media_type');
    }
    expect(state()).toEqual(before);
    // actions without a body still work without a content type (curl -X POST)
    const act = await call(`/contacts/batches/${batchId}/activate`, { method: 'POST' });
    expect(act.status).toBe(200);
  });

  it('invalid JSON → 400 invalid_input, and JSON of the wrong shape → 400', async () => {
    for (const body of [
      '{not json',
      '{"name":',
      '\u0000',
      "{'name':'x'}",
      '{"a":1}}',
      'null',
      '"string"',
      '42',
    ]) {
      const r = await call('/campaigns', json(body));
      expect(r.status, body).toBe(400);
      expect(errorCode(r)).toBe('invalid_input');
    }
    for (const body of ['[]', '[{"name":"x"}]', '{"name":["x"],"subject":{},"body":1}', '{"status":null}']) {
      const r = await call('/campaigns', json(body));
      expect(r.status, body).toBe(400);
      expect(errorCode(r)).toBe('invalid_input');
    }
    expect(state()).toEqual(before);
  });

  it('__proto__ and constructor keys neither pollute objects nor change behaviour', async () => {
    const r = await call(
      '/campaigns',
      json(
        '{"__proto__":{"polluted":true,"status":"sending"},"constructor":{"prototype":{"polluted":true}}}',
      ),
    );
    expect(r.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const ok = await call(
      '/campaigns',
      json('{"name":"Proto","subject":"Hi","body":"B","__proto__":{"status":"sending","id":"cmp_evil"}}'),
    );
    expect([201, 400]).toContain(ok.status);
    if (ok.status === 201) {
      const c = (ok.json as { campaign: { id: string; status: string } }).campaign;
      expect(c.status).toBe('draft');
      expect(c.id).not.toBe('cmp_evil');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).status).toBeUndefined();
  });

  it('unknown routes and methods → 404 JSON', async () => {
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['GET', '/contacts'],
      ['POST', '/contacts/batches'],
      ['DELETE', `/contacts/batches/${batchId}`],
      ['PATCH', '/campaigns'],
      ['GET', '/contacts/batches/x/y/z'],
      ['GET', '/.env'],
      ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
      ['GET', '/admin'],
    ] as const) {
      const r = await call(path, { method });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(errorCode(r)).toBe('not_found');
    }
    // a body of any type on an unknown route is still a 404
    for (const type of ['text/plain', 'application/json']) {
      const r = await call('/nowhere', { method: 'POST', headers: { 'content-type': type }, body: '{}' });
      expect(r.status, type).toBe(404);
    }
    expect(state()).toEqual(before);
  });
});
