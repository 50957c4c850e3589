// What a client cannot put into the gateway's records, and requests it cannot make look valid:
// a model name (or path) that the policy does not name reaches the audit log and the access log
// only as <unknown:hash>; the gateway's request id is its own and unique even when clients send
// the same x-request-id (theirs is kept as client_request_id); a missing or repeated Host and a
// body that is not declared JSON get a 400 in the surface's error shape.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import {
  HOST,
  backendFor,
  chatBody,
  makeTempDir,
  mintKey,
  policy,
  post,
  rawExchange,
  request,
  startGateway,
  startMock,
  stopAll,
  waitFor,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const REQUEST_ID_RE = /^[0-9a-f]{32}$/;

describe('request hygiene', { timeout: 180_000 }, () => {
  let gateway;
  let mock;
  let key;
  let auditPath;
  const auth = () => ({ authorization: `Bearer ${key.key}` });

  before(async () => {
    mock = await startMock('local');
    key = mintKey('hygiene');
    const dir = makeTempDir();
    auditPath = path.join(dir, 'audit.jsonl');
    const config = policy({
      backends: [backendFor('local-a', mock)],
      tiers: { local: { backends: ['local-a'] } },
      models: { 'gpt-4o': { backend: 'local-a' }, 'claude-*': { tier: 'local' } },
      keys: [{ id: 'hygiene', hash: key.hash }],
    });
    config.audit = { path: auditPath, durability: 'batch' };
    gateway = await startGateway(config, { dir });
  });
  after(stopAll);

  const auditRecords = () => fs.readFileSync(auditPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const accessLine = (id) => gateway.waitForLog((l) => l.msg === 'request' && l.request_id === id, `access log ${id}`);

  test('a model name the policy does not name is logged and audited only as <unknown:hash>', TIMEOUT, async () => {
    const secret = `sk-live-${crypto.randomBytes(12).toString('hex')}`;
    const hash = crypto.createHash('sha256').update(secret).digest('hex').slice(0, 8);
    const patterned = `claude-${secret}`;  // matches the claude-* pattern: still client text
    const unknown = await post(gateway, '/v1/chat/completions', chatBody(secret), { headers: auth() });
    assert.equal(unknown.status, 404);
    const routed = await post(gateway, '/v1/chat/completions', chatBody(patterned), { headers: auth() });
    assert.equal(routed.status, 200);
    const named = await post(gateway, '/v1/chat/completions', chatBody('gpt-4o'), { headers: auth() });
    assert.equal(named.status, 200);
    // An unknown path is a client string too (access log only: no audit record for it).
    const lost = await request({ port: gateway.port, path: `/v1/${secret}`, headers: auth() });
    assert.equal(lost.status, 404);

    const lines = await Promise.all([unknown, routed, named, lost].map((r) => accessLine(r.headers['x-request-id'])));
    assert.equal(lines[0].requested_model, `<unknown:${hash}>`);
    assert.match(lines[1].requested_model, /^<unknown:[0-9a-f]{8}>$/);
    assert.equal(lines[2].requested_model, 'gpt-4o');
    assert.match(lines[3].path, /^<unknown:[0-9a-f]{8}>$/);
    const ids = [unknown, routed, named].map((r) => r.headers['x-request-id']);
    await waitFor(() => ids.every((id) => auditRecords().some((r) => r.request_id === id)),
      { what: `audit records; have ${JSON.stringify(auditRecords().map((r) => [r.phase, r.request_id, r.requested_model, r.status]))}` });
    const records = auditRecords();
    const byId = (id) => records.filter((r) => r.request_id === id);
    assert.equal(byId(unknown.headers['x-request-id'])[0].requested_model, `<unknown:${hash}>`);
    assert.equal(byId(named.headers['x-request-id'])[0].requested_model, 'gpt-4o');
    const everything = fs.readFileSync(auditPath, 'utf8') + gateway.proc.stderr + gateway.proc.stdout;
    assert.ok(!everything.includes(secret), 'the secret is in no log and no audit record');
  });

  test('clients reusing one x-request-id get distinct gateway ids; theirs is kept as client_request_id', TIMEOUT, async () => {
    const shared = 'replayed-id-1';
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await post(gateway, '/v1/chat/completions', chatBody('auto'), { headers: { ...auth(), 'x-request-id': shared } }));
    }
    const ids = answers.map((r) => r.headers['x-request-id']);
    for (const id of ids) assert.match(id, REQUEST_ID_RE);
    assert.equal(new Set(ids).size, 3);
    await waitFor(() => ids.every((id) => auditRecords().some((r) => r.request_id === id && r.phase === 'completion')),
      { what: 'audit records' });
    for (const id of ids) {
      const records = auditRecords().filter((r) => r.request_id === id);
      assert.ok(records.length >= 1);
      for (const r of records) assert.equal(r.client_request_id, shared);
      assert.equal((await accessLine(id)).client_request_id, shared);
    }
    // The openai client's own header works too.
    const client = new OpenAI({ apiKey: key.key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const { response } = await client.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'X-Client-Request-Id': 'sdk-77' } })
      .withResponse();
    assert.equal((await accessLine(response.headers.get('x-request-id'))).client_request_id, 'sdk-77');
  });

  test('a missing or repeated Host is a 400 in the surface shape', TIMEOUT, async () => {
    const body = JSON.stringify(chatBody('auto'));
    const req = (p, hostLines) => `POST ${p} HTTP/1.1\r\n${hostLines}Authorization: Bearer ${key.key}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    let { response } = await rawExchange(gateway.port, req('/v1/chat/completions', ''));
    assert.equal(response?.status, 400);
    assert.equal(response.json.error.code, 'malformed_request');
    assert.match(response.json.error.message, /Host/);
    ({ response } = await rawExchange(gateway.port, req('/v1/chat/completions', `Host: ${HOST}\r\nHost: evil.example\r\n`)));
    assert.equal(response?.status, 400);
    assert.match(response.json.error.message, /more than one Host/);
    ({ response } = await rawExchange(gateway.port, req('/v1/messages', '')));
    assert.equal(response?.status, 400);
    assert.equal(response.json.type, 'error');
    assert.equal(response.json.error.type, 'invalid_request_error');
  });

  test('non-JSON content types are a 400; application/json with parameters is accepted', TIMEOUT, async () => {
    const body = JSON.stringify(chatBody('auto'));
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', undefined]) {
      const headers = { ...auth(), ...(type ? { 'content-type': type } : {}) };
      let res = await request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions', headers, body });
      assert.equal(res.status, 400, `${type}: ${res.body}`);
      assert.equal(res.json.error.code, 'invalid_content_type');
      assert.match(res.json.error.message, /application\/json/);
      res = await request({ port: gateway.port, method: 'POST', path: '/v1/messages',
        headers: { ...headers, 'anthropic-version': '2023-06-01' }, body });
      assert.equal(res.status, 400);
      assert.equal(res.json.error.type, 'invalid_request_error');
    }
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
      const res = await request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions',
        headers: { ...auth(), 'content-type': type }, body });
      assert.equal(res.status, 200, `${type}: ${res.body}`);
    }
    // GET endpoints need none.
    assert.equal((await request({ port: gateway.port, path: '/v1/models', headers: auth() })).status, 200);
  });
});
