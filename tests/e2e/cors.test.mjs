// Browser access (server.cors) and what real clients send before their first request: CORS
// preflights answered before authentication for allowed origins only, CORS headers on every
// answer (local and relayed), and HEAD answered without a body (Claude Code sends HEAD / first).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { backendFor, chatBody, policy, rawExchange, request, startGateway, startMock, stopAll } from './lib/harness.mjs';

const TIMEOUT = { timeout: 30_000 };
const APP = 'https://app.example.com';

describe('server.cors and HEAD', { timeout: 120_000 }, () => {
  let gateway;
  let plain;

  before(async () => {
    const mock = await startMock('local');
    const base = { backends: [backendFor('local', mock)], tiers: { local: { backends: ['local'] } } };
    gateway = await startGateway(policy({ ...base, server: { cors: { allow_origins: [APP], max_age: '5m' } } }));
    plain = await startGateway(policy(base));
  });
  after(stopAll);

  test('a preflight from an allowed origin is a 204 with the CORS headers, before authentication', TIMEOUT, async () => {
    const res = await request({
      port: gateway.port, method: 'OPTIONS', path: '/v1/chat/completions',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(res.status, 204, res.body);
    assert.equal(res.headers['access-control-allow-origin'], APP);
    assert.equal(res.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
    assert.equal(res.headers['access-control-allow-headers'], 'authorization, content-type');
    assert.equal(res.headers['access-control-max-age'], '300');
    assert.equal(res.headers.vary, 'Origin');
  });

  test('another origin gets no CORS headers, and the answers themselves carry them only for the allowed one', TIMEOUT, async () => {
    const other = await request({
      port: gateway.port, method: 'OPTIONS', path: '/v1/chat/completions',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.status, 204);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const allowed = await request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions', headers: { origin: APP }, body: chatBody('auto') });
    assert.equal(allowed.status, 200, allowed.body);
    assert.equal(allowed.headers['access-control-allow-origin'], APP);
    assert.match(allowed.headers['access-control-expose-headers'], /x-switchyard-route/);
    const error = await request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions', headers: { origin: APP }, body: '{' });
    assert.equal(error.status, 400);
    assert.equal(error.headers['access-control-allow-origin'], APP);
    const denied = await request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions', headers: { origin: 'https://evil.example' }, body: chatBody('auto') });
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
  });

  test('without server.cors, OPTIONS is not a preflight and no CORS header is sent', TIMEOUT, async () => {
    const res = await request({ port: plain.port, method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: APP } });
    assert.equal(res.status, 405, res.body);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  test('HEAD is answered with headers only, so the connection stays usable', TIMEOUT, async () => {
    const { response, raw } = await rawExchange(plain.port,
      `HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      { waitForClose: true });
    assert.ok(response, raw);
    assert.equal(response.status, 404);
    const second = raw.indexOf('HTTP/1.1 200');
    assert.ok(second > 0, `the GET after the HEAD was answered on the same connection:\n${raw}`);
    assert.ok(!raw.slice(0, second).includes('{'), `no body after the HEAD answer:\n${raw}`);
    const models = await request({ port: plain.port, method: 'HEAD', path: '/v1/models' });
    assert.equal(models.status, 200);
    assert.equal(models.body, '');
  });
});
