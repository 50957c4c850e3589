// Downstream limits: body and header sizes, malformed framing, header/body/idle timeouts (and a
// slowloris client), the connection limit, keep-alive and pipelining.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import {
  HOST,
  REQUEST_ID_RE,
  RawConnection,
  backendFor,
  chatBody,
  curlRequest,
  errorOf,
  metricValue,
  parseHttpResponse,
  policy,
  post,
  rawExchange,
  rawPost,
  request,
  scrapeMetrics,
  sleep,
  startGateway,
  startMock,
  stopAll,
  waitFor,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };

function assertError(response, status, code) {
  assert.equal(response.status, status, `status; body: ${response.body}`);
  const error = errorOf(response.json);
  assert.equal(error.code, code);
  assert.equal(error.type, status >= 500 ? error.type : 'invalid_request_error');
  assert.match(response.headers['x-request-id'] ?? '', REQUEST_ID_RE);
}

// A chat body of exactly `size` bytes (JSON, padded in the message text).
function chatBodyOfSize(size) {
  const base = JSON.stringify(chatBody('auto', ''));
  const body = JSON.stringify(chatBody('auto', 'x'.repeat(size - base.length)));
  assert.equal(Buffer.byteLength(body), size);
  return body;
}

const post1 = (extra = '') =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\n${extra}`;

describe('request size and framing limits', { timeout: 300_000 }, () => {
  let gateway;

  before(async () => {
    const mock = await startMock('alpha');
    gateway = await startGateway(policy({
      backends: [backendFor('local-a', mock)],
      tiers: { local: { backends: ['local-a'] } },
      limits: { max_body_bytes: '1KiB', max_header_bytes: '4KiB', max_header_count: 20 },
    }));
  });

  after(stopAll);

  test('a body of exactly max_body_bytes is accepted', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions', chatBodyOfSize(1024), { headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200, res.body);
  });

  test('a Content-Length over max_body_bytes is a 413 before any body byte is sent', TIMEOUT, async () => {
    const { response, closed } = await rawExchange(gateway.port, `${post1('Content-Length: 1025\r\n')}\r\n`, { waitForClose: true });
    assert.ok(response, 'an answer without waiting for the body');
    assertError(response, 413, 'body_too_large');
    assert.ok(closed);
  });

  test('curl posting a body over max_body_bytes gets a 413, with and without Expect: 100-continue', TIMEOUT, async () => {
    const body = chatBodyOfSize(200_000);
    for (const headers of [{}, { Expect: '' }]) {
      const res = await curlRequest(`${gateway.url}/v1/chat/completions`, { body, headers });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.status, 413);
      assert.equal(errorOf(res.json).code, 'body_too_large');
    }
  });

  test('a chunked body under the limit is accepted', TIMEOUT, async () => {
    const body = JSON.stringify(chatBody('auto', 'chunked hello'));
    const chunks = [body.slice(0, 10), body.slice(10)].map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('');
    const { response } = await rawExchange(gateway.port, `${post1('Transfer-Encoding: chunked\r\n')}\r\n${chunks}0\r\n\r\n`);
    assert.equal(response?.status, 200, response?.body);
    assert.match(response.json.choices[0].message.content, /^Hello from alpha\./);
  });

  test('a chunked body growing past max_body_bytes is a 413', TIMEOUT, async () => {
    const chunk = `12c\r\n${'a'.repeat(300)}\r\n`; // 300 bytes each; 4 of them pass 1 KiB
    const { response, closed } = await rawExchange(gateway.port,
      [`${post1('Transfer-Encoding: chunked\r\n')}\r\n`, chunk, chunk, chunk, chunk], { waitForClose: true });
    assert.ok(response, 'an answer to the over-long chunked body');
    assertError(response, 413, 'body_too_large');
    assert.ok(closed);
  });

  test('a single header field larger than max_header_bytes is a 431', TIMEOUT, async () => {
    const { response } = await rawExchange(gateway.port, `${post1(`X-Big: ${'a'.repeat(5000)}\r\n`)}\r\n`);
    assertError(response, 431, 'headers_too_large');
  });

  test('more header fields than max_header_count is a 431; exactly the limit is fine', TIMEOUT, async () => {
    // Host + Content-Type + Content-Length + n extra fields.
    const withFields = (n) => `${post1(Array.from({ length: n }, (_, i) => `X-Field-${i}: ${i}\r\n`).join(''))}` +
      `Content-Length: ${Buffer.byteLength(JSON.stringify(chatBody('auto')))}\r\n\r\n${JSON.stringify(chatBody('auto'))}`;
    let { response } = await rawExchange(gateway.port, withFields(17));
    assert.equal(response?.status, 200, response?.body);
    ({ response } = await rawExchange(gateway.port, withFields(18)));
    assertError(response, 431, 'headers_too_large');
    ({ response } = await rawExchange(gateway.port, withFields(200)));
    assertError(response, 431, 'headers_too_large');
  });

  test('header bytes spread over several fields count against max_header_bytes in total', TIMEOUT, async () => {
    // 3 x 2000 bytes of header values: every field fits the 4 KiB limit, the header does not.
    const fields = ['a', 'b', 'c'].map((c, i) => `X-Part-${i}: ${c.repeat(2000)}\r\n`).join('');
    const { response } = await rawExchange(gateway.port, `${post1(fields)}Content-Length: 2\r\n\r\n{}`);
    assert.ok(response, 'an answer');
    assertError(response, 431, 'headers_too_large');
  });

  test('Content-Length together with Transfer-Encoding is a 400 malformed_request', TIMEOUT, async () => {
    const { response, closed } = await rawExchange(gateway.port,
      `${post1('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n')}\r\n2\r\n{}\r\n0\r\n\r\n`, { waitForClose: true });
    assertError(response, 400, 'malformed_request');
    assert.ok(closed, 'the connection is not reused after a framing error');
  });

  test('rejections are counted by reason in switchyard_downstream_rejections_total', TIMEOUT, async () => {
    const metrics = await scrapeMetrics(gateway);
    for (const reason of ['body_too_large', 'headers_too_large', 'malformed_request']) {
      assert.ok(metricValue(metrics, 'switchyard_downstream_rejections_total', { reason }) >= 1, reason);
    }
     assert.equal(metricValue(metrics, 'switchyard_session_exceptions_total'), 0);
  });
});

describe('timeouts', { timeout: 300_000 }, () => {
  let gateway;

  before(async () => {
    const mock = await startMock('alpha');
    gateway = await startGateway(policy({
      backends: [backendFor('local-a', mock)],
      tiers: { local: { backends: ['local-a'] } },
      limits: { header_timeout: '2s', body_timeout: '2s', idle_timeout: '1s' },
    }));
  });

  after(stopAll);

  test('a slowloris client gets a 408 at header_timeout while other clients keep being served', TIMEOUT, async () => {
    const slow = net.connect({ host: HOST, port: gateway.port });
    const received = [];
    let closedAt = null;
    slow.on('data', (c) => received.push(c));
    slow.on('error', () => {});
    const closed = new Promise((resolve) => slow.on('close', () => resolve((closedAt = Date.now()))));
    await new Promise((resolve) => slow.once('connect', resolve));
    const startedAt = Date.now();
    const text = `POST /v1/chat/completions HTTP/1.1\r\nHost: ${HOST}\r\nX-Slow: ${'z'.repeat(200)}`;
    let sent = 0;
    const dripper = setInterval(() => {
      if (closedAt === null && sent < text.length) slow.write(text[sent++]);
    }, 200);

    // Meanwhile, other clients on other connections.
    const served = [];
    while (closedAt === null && Date.now() - startedAt < 15_000) {
      const res = await post(gateway, '/v1/chat/completions', chatBody('auto', `meanwhile ${served.length}`), { timeoutMs: 10_000 });
      assert.equal(res.status, 200, res.body);
      served.push(Date.now());
      await sleep(100);
    }
    await Promise.race([closed, sleep(15_000)]);
    clearInterval(dripper);
    slow.destroy();

    assert.ok(closedAt !== null, 'the gateway closed the slowloris connection');
    const lifetime = closedAt - startedAt;
    assert.ok(lifetime >= 1500, `closed after ${lifetime} ms, before header_timeout (2 s)`);
    assert.ok(lifetime < 12_000, `closed only after ${lifetime} ms; header_timeout is 2 s`);
    assert.ok(sent < text.length, 'the header was still incomplete when the gateway gave up');
    assert.ok(served.length >= 3, `only ${served.length} other requests were served meanwhile`);
    const response = parseHttpResponse(Buffer.concat(received).toString('latin1'));
    assert.ok(response, `the slowloris client got no HTTP answer before the close (received ${JSON.stringify(Buffer.concat(received).toString())})`);
    assertError(response, 408, 'request_timeout');
  });

  test('a body that stalls past body_timeout gets a 408', TIMEOUT, async () => {
    const { response, raw, closed, elapsedMs } = await rawExchange(gateway.port,
      `${post1('Content-Length: 100\r\n')}\r\n{"model":`, { timeoutMs: 15_000, waitForClose: true });
    assert.ok(closed, 'the gateway closes the connection');
    assert.ok(elapsedMs >= 1500, `closed after ${elapsedMs} ms, before body_timeout (2 s)`);
    assert.ok(response, `no HTTP answer before the close; got ${JSON.stringify(raw)}`);
    assertError(response, 408, 'request_timeout');
  });

  test('idle_timeout closes a keep-alive connection that stays idle', TIMEOUT, async () => {
    const conn = new RawConnection(gateway.port);
    try {
      const res = await conn.send(`GET /v1/models HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      assert.equal(res.status, 200);
      assert.notEqual(res.headers.connection?.toLowerCase(), 'close');
      const answeredAt = Date.now();
      const closedAt = await Promise.race([conn.closed, sleep(10_000).then(() => null)]);
      assert.ok(closedAt !== null, 'the idle connection was not closed within 10 s (idle_timeout 1 s)');
      assert.ok(closedAt - answeredAt >= 700, `closed ${closedAt - answeredAt} ms after the answer, before idle_timeout`);
    } finally {
      conn.destroy();
    }
  });

  test('a connection that never sends a byte is closed after idle_timeout', TIMEOUT, async () => {
    const { closed, raw, elapsedMs } = await rawExchange(gateway.port, [], { timeoutMs: 10_000, waitForClose: true });
    assert.ok(closed, 'still open after 10 s');
    assert.equal(raw, '');
    assert.ok(elapsedMs >= 700, `closed after ${elapsedMs} ms`);
  });

  test('a request that keeps its connection busy is not cut by idle_timeout', TIMEOUT, async () => {
    // A 2.5 s stream on a gateway whose idle_timeout is 1 s: upstream pacing is not idleness.
    const res = await post(gateway, '/v1/chat/completions',
      chatBody('auto', 'mock:tokens_per_sec=4 mock:reply_tokens=10', { stream: true }), { timeoutMs: 20_000 });
    assert.equal(res.status, 200);
    assert.match(res.body, /data: \[DONE\]/);
  });
});

describe('connections', { timeout: 300_000 }, () => {
  let gateway;
  let mock;

  before(async () => {
    mock = await startMock('alpha');
    gateway = await startGateway(policy({
      backends: [backendFor('local-a', mock)],
      tiers: { local: { backends: ['local-a'] } },
      limits: { max_connections: 3 },
    }));
  });

  after(stopAll);

  const activeConnections = async () => metricValue(await scrapeMetrics(gateway), 'switchyard_active_connections');

  test('beyond max_connections the next connection gets a 503 too_many_connections', TIMEOUT, async () => {
    const held = [new RawConnection(gateway.port), new RawConnection(gateway.port), new RawConnection(gateway.port)];
    try {
      await Promise.all(held.map((c) => c.connected));
      await waitFor(async () => (await activeConnections()) === 3, { what: '3 active connections' });
      const { response, closed } = await rawExchange(gateway.port, `GET /v1/models HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, { waitForClose: true });
      assert.ok(response, 'an HTTP answer on the 4th connection');
      assert.equal(response.status, 503);
      const error = errorOf(response.json);
      assert.equal(error.code, 'too_many_connections');
      assert.equal(typeof error.type, 'string');
      assert.match(response.headers['x-request-id'] ?? '', REQUEST_ID_RE);
      assert.equal(response.headers['retry-after'], '1');
      assert.ok(closed);
      assert.equal(metricValue(await scrapeMetrics(gateway), 'switchyard_downstream_rejections_total', { reason: 'connection_limit' }), 1);

      // The connections that got in are served normally.
      const res = await held[0].send(rawPost('/v1/chat/completions', chatBody('auto')));
      assert.equal(res.status, 200);

      // Once one leaves, a new client gets in.
      held[1].destroy();
      await waitFor(async () => (await activeConnections()) === 2, { what: 'the freed slot' });
      const again = await request({ port: gateway.port, path: '/v1/models' });
      assert.equal(again.status, 200);
    } finally {
      held.forEach((c) => c.destroy());
    }
    await waitFor(async () => (await activeConnections()) === 0, { what: 'all connections closed' });
  });

  test('several requests share one keep-alive connection', TIMEOUT, async () => {
    const conn = new RawConnection(gateway.port);
    try {
      const responses = [
        await conn.send(`GET /v1/models HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`),
        await conn.send(rawPost('/v1/chat/completions', chatBody('auto', 'one'))),
        await conn.send(rawPost('/v1/chat/completions', chatBody('auto', 'two', { stream: true }))),
        await conn.send(rawPost('/v1/embeddings', { model: 'auto', input: 'three' })),
        await conn.send(rawPost('/v1/chat/completions', chatBody('nope'))),
        await conn.send(rawPost('/v1/chat/completions', chatBody('auto', 'after an error'))),
      ];
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200, 404, 200]);
      assert.match(responses[2].body, /data: \[DONE\]/);
      for (const r of responses) assert.notEqual(r.headers.connection?.toLowerCase(), 'close');
      assert.equal(await activeConnections(), 1);
    } finally {
      conn.destroy();
    }
  });

  test('pipelined requests are answered in order on one connection', TIMEOUT, async () => {
    const conn = new RawConnection(gateway.port);
    try {
      await conn.connected;
      const first = conn.next();
      const second = conn.next();
      const third = conn.next();
      conn.write(rawPost('/v1/chat/completions', chatBody('auto', 'first mock:latency_ms=300')) +
        `GET /v1/models HTTP/1.1\r\nHost: ${HOST}\r\n\r\n` +
        rawPost('/v1/embeddings', { model: 'auto', input: 'x' }));
      const got = await Promise.all([first, second, third]);
      // Told apart by their bodies: a completion, the models list, an embeddings list.
      assert.equal(got[0].json?.object, 'chat.completion');
      assert.ok(got[1].json?.data?.every((m) => m.object === 'model'));
      assert.equal(got[2].json?.data?.[0]?.object, 'embedding');
      assert.deepEqual(got.map((r) => r.status), [200, 200, 200]);
    } finally {
      conn.destroy();
    }
  });

  test('Connection: close and HTTP/1.0 requests get their answer and then a close', TIMEOUT, async () => {
    let { response, closed } = await rawExchange(gateway.port,
      rawPost('/v1/chat/completions', chatBody('auto'), { Connection: 'close' }), { waitForClose: true });
    assert.equal(response?.status, 200);
    assert.equal(response.headers.connection?.toLowerCase(), 'close');
    assert.ok(closed);
    ({ response, closed } = await rawExchange(gateway.port, `GET /v1/models HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`, { waitForClose: true }));
    assert.equal(response?.status, 200);
    assert.ok(closed);
  });

  test('Expect: 100-continue gets a 100 Continue before the body is sent', TIMEOUT, async () => {
    const body = JSON.stringify(chatBody('auto', 'expecting'));
    const socket = net.connect({ host: HOST, port: gateway.port });
    try {
      let text = '';
      socket.on('data', (c) => (text += c.toString('latin1')));
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`${post1(`Content-Length: ${body.length}\r\nExpect: 100-continue\r\n`)}\r\n`);
      await waitFor(() => text.includes('\r\n\r\n'), { timeoutMs: 5000, what: '100 Continue' });
      assert.match(text, /^HTTP\/1\.1 100 /);
      socket.write(body);
      await waitFor(() => /HTTP\/1\.1 200 [\s\S]*"choices"/.test(text), { timeoutMs: 10_000, what: 'the answer' });
    } finally {
      socket.destroy();
    }
  });
});
