// Error answers: status, OpenAI error body (code, type, param) and x-request-id for client
// mistakes, protocol violations and upstream failures; failover inside a tier.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import {
  HOST,
  mintKey,
  REQUEST_ID_RE,
  RawConnection,
  backendFor,
  chatBody,
  closedPort,
  curlRequest,
  errorOf,
  metricValue,
  policy,
  post,
  rawExchange,
  rawPost,
  request,
  scrapeMetrics,
  sleep,
  sseData,
  startGateway,
  startMock,
  stopAll,
  waitFor,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };

// Asserts an OpenAI error answer: status, code, type, param null, JSON content type and a
// well-formed x-request-id. Returns the error object.
function assertError(res, status, code, type = status >= 500 ? 'upstream_error' : 'invalid_request_error') {
  assert.equal(res.status, status, `status; body: ${res.body}`);
  const error = errorOf(res.json);
  assert.equal(error.code, code, `code; body: ${res.body}`);
  assert.equal(error.type, type, `type; body: ${res.body}`);
  assert.equal(error.param, null);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.match(res.headers['content-type'], /^application\/json/);
  assert.match(res.headers['x-request-id'] ?? '', REQUEST_ID_RE, 'x-request-id');
  return error;
}

describe('error answers', { timeout: 300_000 }, () => {
  let gateway;
  let alpha;
  let beta;
  let broken;
  let deadPort;

  before(async () => {
    [alpha, beta, broken] = await Promise.all([
      startMock('alpha'),
      startMock('beta'),
      startMock('broken', ['--error-status', '500']),
    ]);
    deadPort = await closedPort();
    const config = policy({
      backends: [
        backendFor('live', alpha, { model: 'live-model' }),
        backendFor('dead', `http://${HOST}:${deadPort}`, { model: 'dead-model', timeouts: { connect: '2s' } }),
        backendFor('slow', alpha, { model: 'slow-model', timeouts: { first_byte: '1s' } }),
        backendFor('broken', broken, { model: 'broken-model' }),
        backendFor('live2', beta, { model: 'live2-model' }),
      ],
      tiers: {
        local: { backends: ['live'] },
        ha: { backends: ['dead', 'live'] },
        flaky: { backends: ['broken', 'live2'] },
      },
      models: { dead: { backend: 'dead' }, slow: { backend: 'slow' } },
      limits: {
        header_timeout: '1s',
        max_body_bytes: '1KiB',
        max_header_bytes: '4KiB',
        max_header_count: 20,
      },
    });
    // Failover, not the breaker, is under test here: a breaker that opened on the 500s would keep
    // the 429 case from reaching the broken backend at all (tests/e2e/router.test.mjs covers it).
    config.resilience = { breaker: { failures: 1000 } };
    gateway = await startGateway(config);
  });

  after(stopAll);

  test('a syntax error in the JSON body is a 400 invalid_json naming line, column and byte', TIMEOUT, async () => {
    const body = '{\n  "model": "auto",\n  "messages": [}\n}';
    const bad = body.indexOf('[}') + 1;
    const res = await post(gateway, '/v1/chat/completions', body, { headers: { 'content-type': 'application/json' } });
    const error = assertError(res, 400, 'invalid_json');
    assert.ok(error.message.includes(`line 3, column 16 (byte ${bad})`), error.message);
  });

  test('an empty body and a JSON body that is not an object are 400 invalid_json', TIMEOUT, async () => {
    for (const body of ['', '[1,2]', '"text"', 'null']) {
      const res = await post(gateway, '/v1/chat/completions', body, { headers: { 'content-type': 'application/json' } });
      assertError(res, 400, 'invalid_json');
    }
  });

  test('a request without model, messages or input is a 400 missing_required_parameter', TIMEOUT, async () => {
    const cases = [
      ['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/chat/completions', { model: '', messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/chat/completions', { model: 42, messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/chat/completions', { model: 'auto' }],
      ['/v1/chat/completions', { model: 'auto', messages: [] }],
      ['/v1/embeddings', { model: 'auto' }],
      ['/v1/embeddings', { input: 'text' }],
    ];
    for (const [p, body] of cases) {
      assertError(await post(gateway, p, body), 400, 'missing_required_parameter');
    }
    assert.equal((await alpha.stats()).requests, 0, 'nothing reached the upstream');
  });

  test('an unknown URL is a 404 unknown_url and an unknown model a 404 model_not_found', TIMEOUT, async () => {
    assertError(await request({ port: gateway.port, path: '/v1/nope' }), 404, 'unknown_url');
    assertError(await post(gateway, '/v2/chat/completions', chatBody('auto')), 404, 'unknown_url');
    assertError(await request({ port: gateway.port, path: '/' }), 404, 'unknown_url');
    assert.match(errorOf((await request({ port: gateway.port, path: '/v1/nope' })).json).message, /GET \/v1\/nope\./);
    const hidden = errorOf((await request({ port: gateway.port, path: '/v1/jane.doe%40example.com' })).json);
    assert.doesNotMatch(hidden.message, /jane|example/, 'a path that is not API-shaped is not echoed');
    const error = assertError(await post(gateway, '/v1/chat/completions', chatBody('no-such-model')), 404, 'model_not_found');
    assert.match(error.message, /no-such-model/);
    assertError(await post(gateway, '/v1/embeddings', { model: 'no-such-model', input: 'x' }), 404, 'model_not_found');
  });

  test('a wrong method is a 405 method_not_allowed with an Allow header', TIMEOUT, async () => {
    let res = await request({ port: gateway.port, path: '/v1/chat/completions' });
    assertError(res, 405, 'method_not_allowed');
    assert.equal(res.headers.allow, 'POST');
    res = await request({ port: gateway.port, method: 'DELETE', path: '/v1/embeddings' });
    assertError(res, 405, 'method_not_allowed');
    assert.equal(res.headers.allow, 'POST');
    res = await post(gateway, '/v1/models', {});
    assertError(res, 405, 'method_not_allowed');
    assert.equal(res.headers.allow, 'GET, HEAD');
  });

  test('protocol violations get 413, 431 and 400 malformed_request with an error body, then a close', TIMEOUT, async () => {
    const head = (extra) => `POST /v1/chat/completions HTTP/1.1\r\nHost: ${HOST}\r\n${extra}\r\n`;
    const cases = [
      [head('Content-Type: application/json\r\nContent-Length: 5000\r\n'), 413, 'body_too_large'],
      [head(Array.from({ length: 30 }, (_, i) => `X-Extra-${i}: ${i}\r\n`).join('')), 431, 'headers_too_large'],
      [head(`X-Big: ${'a'.repeat(5000)}\r\n`), 431, 'headers_too_large'],
      [head('Content-Length: 2\r\nTransfer-Encoding: chunked\r\n') + '2\r\n{}\r\n0\r\n\r\n', 400, 'malformed_request'],
      [head('Content-Length: 2\r\nContent-Length: 3\r\n') + '{}', 400, 'malformed_request'],
      [head('Content-Length: 2\r\nTransfer-Encoding: gzip\r\n') + '{}', 400, 'malformed_request'],
      [`POST /v1/chat/completions HTTP/1.1\r\nHost: ${HOST}\r\nBad Header Name: x\r\n\r\n`, 400, 'malformed_request'],
    ];
    for (const [raw, status, code] of cases) {
      const { response, raw: got, closed } = await rawExchange(gateway.port, raw, { timeoutMs: 10_000, waitForClose: true });
      assert.ok(response, `no HTTP response for ${code}: ${JSON.stringify(got)}`);
      assertError(response, status, code);
      assert.equal(response.headers.connection?.toLowerCase(), 'close', `${code} announces the close`);
      assert.ok(closed, `the gateway closes the connection after ${code}`);
    }
  });

  test('headers that do not complete within header_timeout get a 408 request_timeout', TIMEOUT, async () => {
    const partial = `POST /v1/chat/completions HTTP/1.1\r\nHost: ${HOST}\r\nX-Unfinished: yes\r\n`;
    const { response, raw, closed, elapsedMs } = await rawExchange(gateway.port, partial, { timeoutMs: 15_000, waitForClose: true });
    assert.ok(closed, 'the gateway closes the connection');
    assert.ok(response, `no HTTP response before the close after ${elapsedMs} ms; got ${JSON.stringify(raw)}`);
    assertError(response, 408, 'request_timeout');
  });

  test('every request gets its own x-request-id; a well-formed client id is only logged, as client_request_id', TIMEOUT, async () => {
    const id = 'client-req_42:A.b';
    const first = await post(gateway, '/v1/chat/completions', chatBody('auto'), { headers: { 'x-request-id': id } });
    assert.equal(first.status, 200);
    const ours = first.headers['x-request-id'];
    assert.match(ours, REQUEST_ID_RE);
    assert.notEqual(ours, id);
    // Upstream sees the gateway's id (the one in the audit record), never the client's text.
    assert.equal((await alpha.lastRequestHeaders())['x-request-id'], ours);

    // The same client id again (as a client replaying another request's id would send it).
    const second = await post(gateway, '/v1/chat/completions', chatBody('no-such-model'), { headers: { 'x-request-id': id } });
    assert.equal(second.status, 404);
    assert.match(second.headers['x-request-id'], REQUEST_ID_RE);
    assert.notEqual(second.headers['x-request-id'], ours);
    for (const res of [first, second]) {
      const line = await gateway.waitForLog((l) => l.msg === 'request' && l.request_id === res.headers['x-request-id'],
        'the access log line');
      assert.equal(line.client_request_id, id);
    }

    // OpenAI's client sends its own id as x-client-request-id: kept the same way.
    const longest = 'x'.repeat(128);
    let res = await request({ port: gateway.port, path: '/v1/models', headers: { 'x-client-request-id': longest } });
    assert.equal(res.status, 200);
    let line = await gateway.waitForLog((l) => l.msg === 'request' && l.request_id === res.headers['x-request-id'], 'log');
    assert.equal(line.client_request_id, longest);

    for (const bad of ['has space', 'a/b', 'x'.repeat(129), 'semi;colon', 'quote"d']) {
      res = await request({ port: gateway.port, path: '/v1/models', headers: { 'x-request-id': bad } });
      assert.equal(res.status, 200);
      assert.match(res.headers['x-request-id'], REQUEST_ID_RE);
      line = await gateway.waitForLog((l) => l.msg === 'request' && l.request_id === res.headers['x-request-id'], 'log');
      assert.equal(line.client_request_id, undefined, `malformed id ${JSON.stringify(bad)} is not logged`);
    }
    // Two requests without an id get two different generated ids.
    const a = await request({ port: gateway.port, path: '/v1/models' });
    const b = await request({ port: gateway.port, path: '/v1/models' });
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
  });

  test('an upstream that refuses the connection is a 503 no_backend_available', TIMEOUT, async () => {
    const res = await curlRequest(`${gateway.url}/v1/chat/completions`, { body: chatBody('dead') });
    assert.equal(res.code, 0, res.stderr);
    assertError(res, 503, 'no_backend_available', 'server_error');
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.headers['x-switchyard-route'], undefined);
    assert.match(errorOf(res.json).message, /dead/);
  });

  test('an upstream that resets the connection before answering is a 502 upstream_error', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions', chatBody('auto', 'mock:disconnect_after=0'));
    assertError(res, 502, 'upstream_error');
    // The gateway still serves the next request.
    assert.equal((await post(gateway, '/v1/chat/completions', chatBody('auto'))).status, 200);
  });

  test('an upstream stream that breaks after two chunks ends with an SSE error event', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions',
      chatBody('auto', 'mock:disconnect_after=2 mock:reply_tokens=10', { stream: true }));
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/event-stream/);
    assert.match(res.headers['x-request-id'], REQUEST_ID_RE);
    const events = sseData(res.body);
    assert.notEqual(events.at(-1), '[DONE]');
    const last = JSON.parse(events.at(-1));
    const error = errorOf(last);
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.type, 'upstream_error');
    const content = events.slice(0, -1).map((e) => JSON.parse(e).choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(content, 'Hello from', 'the two chunks before the break were relayed');

    // The openai client surfaces the in-band error as an exception after the partial text.
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 30_000 });
    const stream = await client.chat.completions.create({
      model: 'auto',
      messages: [{ role: 'user', content: 'mock:disconnect_after=2' }],
      stream: true,
    });
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    }, (err) => err instanceof OpenAI.APIError && /stream (failed|timed out)/.test(err.message));
    assert.equal(text, 'Hello from');
  });

  test('after a stream that broke mid-way, the keep-alive connection serves the next request', TIMEOUT, async () => {
    const conn = new RawConnection(gateway.port);
    try {
      const broken = await conn.send(rawPost('/v1/chat/completions',
        chatBody('auto', 'mock:disconnect_after=2 mock:reply_tokens=10', { stream: true })));
      assert.equal(broken.status, 200);
      assert.notEqual(broken.headers.connection, 'close');
      assert.equal(errorOf(JSON.parse(sseData(broken.body).at(-1))).code, 'upstream_error',
        'the stream ends with the in-band error, then the terminating chunk');
      const next = await conn.send(rawPost('/v1/chat/completions', chatBody('auto', 'again')));
      assert.equal(next.status, 200, 'the same connection answers the next request');
      assert.match(next.json.choices[0].message.content, /^Hello/);
    } finally {
      conn.destroy();
    }
  });

  test('an upstream slower than its first_byte timeout is a 504 upstream_timeout', TIMEOUT, async () => {
    const started = Date.now();
    const res = await post(gateway, '/v1/chat/completions', chatBody('slow', 'mock:latency_ms=6000'));
    const elapsed = Date.now() - started;
    assertError(res, 504, 'upstream_timeout');
    assert.ok(elapsed < 5000, `the gateway waited ${elapsed} ms for an upstream with a 1s first_byte timeout`);
  });

  test('a tier fails over from a dead backend to a live one', TIMEOUT, async () => {
    // The balancer picks the first backend at random (weighted power of two choices): send until
    // the dead one was picked first at least once (2^-40 to miss in 40 tries).
    const deadErrors = async () => metricValue(await scrapeMetrics(gateway), 'switchyard_upstream_errors_total',
      { backend: 'dead', reason: 'unreachable' });
    for (let i = 0; i < 40 && (i < 6 || (await deadErrors()) === 0); i++) {
      const res = await post(gateway, '/v1/chat/completions', chatBody('ha', `failover ${i}`));
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['x-switchyard-route'], 'tier=ha; backend=live; model=live-model; rule=default');
      assert.match(res.json.choices[0].message.content, /^Hello from alpha\./);
    }
    assert.ok((await deadErrors()) >= 1, 'an upstream error recorded for the dead backend');
  });

  test('a tier fails over from a backend answering 500, 503 or 429 to the next one', TIMEOUT, async () => {
    for (const status of [500, 503, 429]) {
      await broken.configure({ error_status: status });
      const before = (await broken.stats()).requests;
      // Until the broken backend was picked first at least once (random, see above).
      for (let i = 0; i < 40 && (i < 4 || (await broken.stats()).requests === before); i++) {
        const res = await post(gateway, '/v1/chat/completions', chatBody('flaky', `failover ${status} ${i}`));
        assert.equal(res.status, 200, `${status}: ${res.body}`);
        assert.equal(res.headers['x-switchyard-route'], 'tier=flaky; backend=live2; model=live2-model; rule=default');
        assert.match(res.json.choices[0].message.content, /^Hello from beta\./);
      }
      assert.ok((await broken.stats()).requests > before, `the backend answering ${status} was tried`);
    }
    await broken.configure({ reset: true });
  });

  test('a client that disconnects mid-stream leaves the gateway healthy', TIMEOUT, async () => {
    const before = (await alpha.stats()).requests;
    await new Promise((resolve, reject) => {
      const req = http.request({ host: HOST, port: gateway.port, method: 'POST', path: '/v1/chat/completions',
        agent: false, headers: { 'content-type': 'application/json' } });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
        res.on('error', () => {});
      });
      setTimeout(() => reject(new Error('no first chunk')), 20_000);
      req.end(JSON.stringify(chatBody('auto', 'mock:tokens_per_sec=5 mock:reply_tokens=50', { stream: true })));
    });
    await waitFor(async () => metricValue(await scrapeMetrics(gateway), 'switchyard_active_connections') === 0,
      { what: 'the abandoned connection to be released' });
    const res = await post(gateway, '/v1/chat/completions', chatBody('auto'));
    assert.equal(res.status, 200);
    assert.equal((await alpha.stats()).requests, before + 2);
  });

  test('no session ended in an unexpected exception', TIMEOUT, async () => {
    assert.equal(metricValue(await scrapeMetrics(gateway), 'switchyard_session_exceptions_total'), 0);
    assert.equal(gateway.proc.exitInfo, null, 'the gateway is still running');
  });
});

describe('pooled upstream connections', { timeout: 120_000 }, () => {
  after(stopAll);

  test('an upstream that closes idle keep-alive connections causes no error', TIMEOUT, async () => {
    const mock = await startMock('idler', ['--idle-timeout-s', '1']);
    const gateway = await startGateway(policy({
      backends: [backendFor('local-a', mock)],
      tiers: { local: { backends: ['local-a'] } },
      server: { workers: 1 },
    }));
    for (let i = 0; i < 3; i++) {
      const res = await post(gateway, '/v1/chat/completions', chatBody('auto', `round ${i}`));
      assert.equal(res.status, 200, `round ${i}: ${res.body}`);
      await sleep(1500); // the mock drops the pooled connection meanwhile
    }
  });

  test('an upstream restarted on the same port is reached again without an error', TIMEOUT, async () => {
    const first = await startMock('first');
    const gateway = await startGateway(policy({
      backends: [backendFor('local-a', first)],
      tiers: { local: { backends: ['local-a'] } },
      server: { workers: 1 },
    }));
    assert.equal((await post(gateway, '/v1/chat/completions', chatBody('auto'))).status, 200);
    await first.stop();
    const second = await startMock('second', ['--port', String(first.port)]);
    assert.equal(second.port, first.port);
    for (let i = 0; i < 2; i++) {
      const res = await post(gateway, '/v1/chat/completions', chatBody('auto'));
      assert.equal(res.status, 200, res.body);
      assert.match(res.json.choices[0].message.content, /^Hello from second\./);
    }
  });
});

// server.limits.max_messages, max_content_parts and max_tools, and the known fields' kinds and
// ranges, on each surface with its real SDK: a 400 in that surface's error shape that the SDK
// raises as BadRequestError, naming the field (never its value), and nothing goes upstream.
describe('conversation bounds and known-field checks per surface', { timeout: 120_000 }, () => {
  let gateway;
  let mock;
  let openai;
  let anthropic;

  before(async () => {
    mock = await startMock('bounded');
    const key = mintKey('bounded');
    gateway = await startGateway(policy({
      backends: [backendFor('local', mock)],
      tiers: { local: { backends: ['local'] } },
      keys: [{ id: 'bounded', hash: key.hash }],
      limits: { max_messages: 4, max_content_parts: 6, max_tools: 2 },
    }));
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: key.key, maxRetries: 0 });
  });

  after(stopAll);

  const messages = (n) => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
  const openAiRefusal = (code, param) => (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.code, code);
    assert.equal(err.param, param);
    assert.equal(err.type, 'invalid_request_error');
    return true;
  };
  const anthropicRefusal = (pattern) => (err) => {
    assert.ok(err instanceof Anthropic.BadRequestError, String(err));
    assert.equal(err.error?.type, 'error');
    assert.equal(err.error?.error?.type, 'invalid_request_error');
    assert.match(err.error?.error?.message, pattern);
    return true;
  };

  test('exactly max_messages passes on every surface; one more is a 400 naming the limit and the count', TIMEOUT, async () => {
    const before = (await mock.stats()).requests;
    const chat = await openai.chat.completions.create({ model: 'auto', messages: messages(4) });
    assert.match(chat.choices[0].message.content, /Hello from bounded/);
    await assert.rejects(openai.chat.completions.create({ model: 'auto', messages: messages(5) }),
      openAiRefusal('too_many_messages', 'messages'));
    await assert.rejects(openai.chat.completions.create({ model: 'auto', messages: messages(5) }),
      (err) => /carries 5 messages, more than this gateway's limit of 4 \(server\.limits\.max_messages\)/.test(err.message) && !err.message.includes('m4'));

    await anthropic.messages.create({ model: 'auto', max_tokens: 16, messages: messages(3) });
    await assert.rejects(anthropic.messages.create({ model: 'auto', max_tokens: 16, messages: messages(5) }),
      anthropicRefusal(/carries 5 messages, more than this gateway's limit of 4/));

    await openai.responses.create({ model: 'auto', input: messages(4) });
    await assert.rejects(openai.responses.create({ model: 'auto', input: messages(5) }),
      openAiRefusal('too_many_messages', 'input'));
    assert.equal((await mock.stats()).requests, before + 3, 'only the requests within the bound went upstream');
    const metrics = await scrapeMetrics(gateway);
    assert.equal(metricValue(metrics, 'switchyard_downstream_rejections_total', { reason: 'too_many_messages' }), 4);
  });

  test('content parts and tools are bounded too', TIMEOUT, async () => {
    const parts = (n) => Array.from({ length: n }, (_, i) => ({ type: 'text', text: `p${i}` }));
    await assert.rejects(openai.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: parts(7) }] }),
      openAiRefusal('too_many_content_parts', 'messages'));
    await assert.rejects(anthropic.messages.create({ model: 'auto', max_tokens: 16, messages: [{ role: 'user', content: parts(7) }] }),
      anthropicRefusal(/carries 7 content parts, more than this gateway's limit of 6/));
    const tool = (name) => ({ type: 'function', function: { name, parameters: { type: 'object' } } });
    await assert.rejects(openai.chat.completions.create({ model: 'auto', messages: messages(1), tools: [tool('a'), tool('b'), tool('c')] }),
      openAiRefusal('too_many_tools', 'tools'));
    await assert.rejects(openai.responses.create({ model: 'auto', input: 'q', tools: ['a', 'b', 'c'].map((name) => ({ type: 'function', name, parameters: { type: 'object' } })) }),
      openAiRefusal('too_many_tools', 'tools'));
  });

  test('a known field of the wrong kind or range is a 400 naming it, on every surface', TIMEOUT, async () => {
    const before = (await mock.stats()).requests;
    const chatCases = [
      [{ temperature: '0.7' }, 'invalid_type', 'temperature'],
      [{ temperature: 3 }, 'invalid_value', 'temperature'],
      [{ max_tokens: 'x' }, 'invalid_value', 'max_tokens'],
      [{ stream: 'yes' }, 'invalid_type', 'stream'],
      [{ stop: 5 }, 'invalid_type', 'stop'],
      [{ n: 0 }, 'invalid_value', 'n'],
    ];
    for (const [fields, code, param] of chatCases) {
      await assert.rejects(openai.chat.completions.create({ model: 'auto', messages: messages(1), ...fields }),
        openAiRefusal(code, param), JSON.stringify(fields));
    }
    await assert.rejects(openai.chat.completions.create({ model: 'auto', messages: [{ role: 'wizard', content: 'q' }] }),
      (err) => openAiRefusal('invalid_value', 'messages[0].role')(err) && !err.message.includes('wizard'));
    await assert.rejects(openai.chat.completions.create({ model: 'auto', messages: ['hello'] }),
      openAiRefusal('invalid_type', 'messages[0]'));
    await assert.rejects(anthropic.messages.create({ model: 'auto', max_tokens: 16, temperature: 1.5, messages: messages(1) }),
      anthropicRefusal(/^temperature: must be between 0 and 1$/));
    await assert.rejects(openai.responses.create({ model: 'auto', input: 'q', top_p: 2 }),
      openAiRefusal('invalid_value', 'top_p'));
    assert.equal((await mock.stats()).requests, before, 'nothing went upstream');

    // What real clients send passes: nulls where OpenAI accepts them, n: 1, stream_options, ...
    const ok = await openai.chat.completions.create({
      model: 'auto', messages: messages(1), temperature: null, top_p: 1, n: 1, parallel_tool_calls: true,
      stream: false, metadata: { run: 'x' }, seed: 7, stop: ['END'],
    });
    assert.equal(ok.choices.length, 1);
  });
});
