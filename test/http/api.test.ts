import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, uploadCsv } from '../helpers.js';

type Json = Record<string, unknown> & {
  batch?: { id: string; status: string; contactCount: number; name: string };
  batches?: { id: string; status: string; contactCount: number; name: string }[];
  contacts?: { id: number; email: string; status: string }[];
  nextCursor?: string | null;
  report?: Record<string, number>;
  error?: { code: string; message: string; details?: Record<string, unknown> };
};

let url: string;
let stop: () => Promise<void>;

const get = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  return {
    status: res.status,
    body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as Json,
    res,
  };
};
const post = (path: string, body?: unknown) =>
  get(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
const upload = async (content: string | Uint8Array, opts?: Parameters<typeof uploadCsv>[2]) => {
  const r = await uploadCsv(url, content, opts);
  return { status: r.status, body: r.body as Json };
};

const fileA = 'email,name,company\nana@acme.com,Ana,Acme\nbruno@acme.com,Bruno,Acme\n';
const fileB = 'email,name\ncarla@beta.io,Carla\ndiego@beta.io,Diego\nana@acme.com,Ana again\n';

describe('REST API: the seed scenarios', () => {
  beforeEach(async () => {
    ({ url, stop } = await startTestApp());
  });
  afterEach(() => stop());

  it('scenario 1-3: first import active, second replaces it, activating the first deactivates the second', async () => {
    const first = await upload(fileA, { fileName: 'contatos.csv' });
    expect(first.status).toBe(201);
    expect(first.body.batch).toMatchObject({ status: 'active', contactCount: 2, name: 'contatos.csv' });
    expect(first.body.batch!.id).toMatch(/^batch_[0-9a-f]{8}_\d{10}$/);
    expect(first.body.report).toMatchObject({ rows: 2, imported: 2, invalid: 0, existing: 0 });

    const second = await upload(fileB, { fileName: 'novos_contatos.csv' });
    expect(second.status).toBe(201);
    expect(second.body.report).toMatchObject({ rows: 3, imported: 2, existing: 1 });
    expect(second.body.replaced).toMatchObject({ id: first.body.batch!.id, status: 'inactive' });

    const list = await get('/contacts/batches');
    expect(list.body.batches!.map((b) => [b.id, b.status])).toEqual([
      [second.body.batch!.id, 'active'],
      [first.body.batch!.id, 'inactive'],
    ]);

    const act = await post(`/contacts/batches/${first.body.batch!.id}/activate`);
    expect(act.status).toBe(200);
    expect(act.body.batch!.status).toBe('active');
    const after = await get('/contacts/batches');
    expect(after.body.batches!.filter((b) => b.status === 'active').map((b) => b.id)).toEqual([
      first.body.batch!.id,
    ]);

    const deact = await post(`/contacts/batches/${first.body.batch!.id}/deactivate`);
    expect(deact.body.batch!.status).toBe('inactive');
    expect((await get('/contacts/batches?status=active')).body.batches).toEqual([]);
  });

  it('multipart fields after the file are honoured (activate=false, name)', async () => {
    await upload(fileA);
    const r = await upload(fileB, { fields: { activate: 'false', name: 'Leads Q3' } });
    expect(r.status).toBe(201);
    expect(r.body.batch).toMatchObject({ status: 'inactive', name: 'Leads Q3' });
    expect(r.body.replaced).toBeNull();
    expect((await get('/contacts/batches?status=active')).body.batches).toHaveLength(1);
  });

  it('accepts a raw text/csv body', async () => {
    const r = await get('/contacts/import?name=raw.csv', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: fileA,
    });
    expect(r.status).toBe(201);
    expect(r.body.batch).toMatchObject({ name: 'raw.csv', contactCount: 2 });
  });
});

describe('REST API: fatal inputs change nothing', () => {
  let activeId: string;
  beforeEach(async () => {
    ({ url, stop } = await startTestApp({ IMPORT_MAX_BYTES: '2kb' }));
    activeId = (await upload(fileA)).body.batch!.id;
  });
  afterEach(() => stop());

  const cases: [string, string | Uint8Array, number, string, RegExp][] = [
    ['empty file', '', 422, 'empty_file', /empty/i],
    ['no e-mail column', 'nome,empresa\nAna,Acme\n', 422, 'no_email_column', /"nome", "empresa"/],
    ['an .xlsx workbook', Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 0, 0, 0]), 415, 'not_csv', /CSV/],
    [
      'binary bytes',
      Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37) % 32)),
      415,
      'not_csv',
      /not text/,
    ],
    ['an HTML page', '<!DOCTYPE html><html><body>Sign in</body></html>', 415, 'not_csv', /HTML/],
    ['over the size limit', `email\n${'someone@example.com\n'.repeat(200)}`, 413, 'too_large', /2 KB/],
    ['no valid row', 'email,name\nnot-an-address,Ana\n,Bruno\n', 422, 'no_valid_rows', /valid e-mail/],
    ['no new contact', 'email\nANA@acme.com\nbruno@acme.com\n', 422, 'no_new_contacts', /2 in batch_/],
    ['an unclosed quote', 'email,name\nx@y.com,"Ana\n', 422, 'malformed_csv', /quote/],
    [
      'a Mailchimp unsubscribed export',
      'Email Address,UNSUB_TIME\nx@y.com,2024-01-01\n',
      422,
      'opted_out_list',
      /unsubscribed/,
    ],
  ];

  for (const [what, content, status, code, message] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const r = await upload(content);
      expect(r.status).toBe(status);
      expect(r.body.error?.code).toBe(code);
      expect(r.body.error?.message).toMatch(message);
      const list = await get('/contacts/batches');
      expect(list.body.batches!.map((b) => [b.id, b.status])).toEqual([[activeId, 'active']]);
      expect((await get(`/contacts/batches/${activeId}`)).body.contacts).toHaveLength(2);
    });
  }

  it('the same file again → 409 duplicate_file naming the batch; force=true imports it when it adds people', async () => {
    const r = await upload(fileA);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'duplicate_file', details: { batchId: activeId } });
    // Forced, the same file still adds nobody: everybody is already known.
    const forced = await upload(fileA, { fields: { force: 'true' } });
    expect(forced.body.error?.code).toBe('no_new_contacts');
    expect((await get('/contacts/batches')).body.batches).toHaveLength(1);
  });

  it('no file field → 400, wrong content type → 415', async () => {
    const form = new FormData();
    form.append('other', 'x');
    const noFile = await get('/contacts/import', { method: 'POST', body: form });
    expect(noFile.status).toBe(400);
    expect(noFile.body.error?.message).toMatch(/field "file"/);
    const json = await post('/contacts/import', { email: 'x@y.com' });
    expect(json.status).toBe(415);
    expect(json.body.error?.code).toBe('unsupported_media_type');
  });
});

describe('REST API: batches, contacts, export', () => {
  beforeEach(async () => {
    ({ url, stop } = await startTestApp());
  });
  afterEach(() => stop());

  it('pages batches newest first and a batch contacts by cursor, with status and text filters', async () => {
    for (let i = 0; i < 5; i++) await upload(`email\nperson${i}@example.com\n`, { fileName: `f${i}.csv` });
    const p1 = await get('/contacts/batches?limit=2');
    expect(p1.body.batches).toHaveLength(2);
    const p2 = await get(`/contacts/batches?limit=2&cursor=${p1.body.nextCursor}`);
    const p3 = await get(`/contacts/batches?limit=2&cursor=${p2.body.nextCursor}`);
    expect(p3.body.nextCursor).toBeNull();
    const names = [...p1.body.batches!, ...p2.body.batches!, ...p3.body.batches!].map(
      (b) => (b as { name: string }).name,
    );
    expect(names).toEqual(['f4.csv', 'f3.csv', 'f2.csv', 'f1.csv', 'f0.csv']);

    const rows = Array.from(
      { length: 25 },
      (_, i) => `lead${i}@corp${i % 3}.com,Lead ${i},Corp${i % 3}`,
    ).join('\n');
    const big = await upload(`email,name,company\n${rows}\n`);
    const id = big.body.batch!.id;
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await get(`/contacts/batches/${id}?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.contacts!.map((c) => c.email));
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);

    const corp1 = await get(`/contacts/batches/${id}?q=corp1&limit=100`);
    expect(corp1.body.contacts!.every((c) => c.email.includes('corp1'))).toBe(true);
    expect(corp1.body.contacts).toHaveLength(8);
    // LIKE wildcards are literal: "%" matches nothing here.
    expect(
      (await get(`/contacts/batches/${id}?q=${encodeURIComponent("%' OR 1=1 --")}`)).body.contacts,
    ).toEqual([]);

    const first = corp1.body.contacts![0]!;
    await get(`/contacts/${first.id}/status`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'inactive', reason: 'asked by phone' }),
    });
    const inactive = await get(`/contacts/batches/${id}?status=inactive`);
    expect(inactive.body.contacts!.map((c) => c.id)).toEqual([first.id]);
  });

  it('unknown ids → 404, bad query → 400, with the error shape', async () => {
    const missing = await get('/contacts/batches/batch_00000000_1');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'not_found' });
    expect((await post('/contacts/batches/nope/activate')).status).toBe(404);
    const bad = await get('/contacts/batches?limit=abc');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid_input');
    expect((await get('/contacts/batches?cursor=garbage')).status).toBe(400);
    const badStatus = await get('/contacts/1/status', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'gone' }),
    });
    expect(badStatus.status).toBe(400);
    const badJson = await get('/contacts/1/status', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(badJson.status).toBe(400);
    expect((await get('/nowhere')).status).toBe(404);
  });

  it('exports CSV with formula cells neutralised', async () => {
    const r = await upload(
      'email,name,company\nx@evil.com,=HYPERLINK("http://x"),+SUM(A1)\ny@ok.com,@cmd,-2\n',
    );
    const out = await get(`/contacts/batches/${r.body.batch!.id}/export`);
    expect(out.status).toBe(200);
    expect(out.res.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = String(out.body).trim().split('\r\n');
    // PRODUCT.md section 5's columns first, in its order; later additions at the end.
    expect(lines[0]).toBe(
      'email,name,company,position,status,source,created_at,validation,sendable,not_sendable_reason,interest',
    );
    expect(lines[1]).toMatch(
      /^x@evil\.com,"'=HYPERLINK\(""http:\/\/x""\)",'\+SUM\(A1\),,active,,\d{4}-[^,]+,[a-z_]*,true,,$/,
    );
    expect(lines[2]).toMatch(/^y@ok\.com,'@cmd,'-2,/);
  });

  it('a deleted or unsubscribed address never comes back on re-import', async () => {
    const r = await upload('email,name\ngone@x.com,Gone\nunsub@x.com,Unsub\nstay@x.com,Stay\n');
    const contacts = (await get(`/contacts/batches/${r.body.batch!.id}`)).body.contacts!;
    const gone = contacts.find((c) => c.email === 'gone@x.com')!;
    const unsub = contacts.find((c) => c.email === 'unsub@x.com')!;
    const del = await fetch(`${url}/contacts/${gone.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    const put = await get(`/contacts/${unsub.id}/status`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'unsubscribed' }),
    });
    expect(put.body).toMatchObject({ contact: { status: 'unsubscribed' } });
    const back = await get(`/contacts/${unsub.id}/status`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'active' }),
    });
    expect(back.status).toBe(409);
    expect(back.body.error?.code).toBe('suppressed');

    const again = await upload('email\nGONE@x.com\nnew@x.com\n');
    expect(again.status).toBe(201);
    expect(again.body.report).toMatchObject({ rows: 2, imported: 1, suppressed: 1 });
    const onlyGone = await upload('email\ngone@x.com\n', { fileName: 'other.csv' });
    expect(onlyGone.body.error?.code).toBe('no_new_contacts');
    expect(onlyGone.body.error?.message).toMatch(/1 suppressed/);
    expect((await get(`/contacts/batches/${r.body.batch!.id}`)).body.batch!.contactCount).toBe(2);
  });
});

describe('REST API: authentication', () => {
  const token = 'test-token-0123456789abcdef';
  beforeEach(async () => {
    ({ url, stop } = await startTestApp({ API_TOKEN: token, HOST: '127.0.0.1' }));
  });
  afterEach(() => stop());

  it('requires the bearer token on every route but /healthz', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const none = await get('/contacts/batches');
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe('unauthorized');
    expect((await get('/contacts/batches', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await upload(fileA)).status).toBe(401);
    const ok = await get('/contacts/batches', { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const up = await upload(fileA, { headers: { authorization: `Bearer ${token}` } });
    expect(up.status).toBe(201);
  });
});
