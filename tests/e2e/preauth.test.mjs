// Authentication before the body, and the in-flight body budget: a request without a valid key
// is refused on its head (401/403, Connection: close) and its body is never read or held, so
// many keyless clients announcing large bodies cannot grow the gateway's memory (measured as
// VmRSS/VmHWM in /proc); authenticated bodies are read only within
// server.limits.max_inflight_body_bytes, beyond which the answer is a 503 with Retry-After in the
// surface's error shape, and nothing is lost for the requests within it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import {
  HOST,
  RawConnection,
  backendFor,
  chatBody,
  metricValue,
  mintKey,
  parseHttpResponse,
  policy,
  post,
  rawExchange,
  request,
  scrapeMetrics,
  startGateway,
  startMock,
  stopAll,
  waitFor,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 120_000 };
const MiB = 1 << 20;

// kB of one line of /proc/PID/status ("VmRSS", "VmHWM").
function procStatusKb(pid, field) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

function head(path, headers) {
  const lines = Object.entries({ Host: HOST, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `POST ${path} HTTP/1.1\r\n${lines}\r\n`;
}

// Opens a connection, writes `data` (string/Buffer parts) and resolves with the parsed response,
// or null if none came before the socket closed or `timeoutMs` passed. Write errors (the gateway
// closing while we still send) are expected and ignored.
function sendAndRead(port, parts, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    const chunks = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseHttpResponse(Buffer.concat(chunks).toString('latin1')));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('error', () => {});
    socket.on('data', (c) => {
      chunks.push(c);
      if (parseHttpResponse(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    socket.on('close', finish);
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
    });
  });
}

// A chat request body of exactly `size` bytes carrying `marker`, as valid JSON.
function paddedChat(size, marker) {
  const skeleton = JSON.stringify(chatBody('auto', `${marker} `));
  const pad = size - Buffer.byteLength(skeleton);
  assert.ok(pad >= 0);
  return Buffer.from(JSON.stringify(chatBody('auto', `${marker} ${'x'.repeat(pad)}`)));
}

describe('authentication before the body', { timeout: 300_000 }, () => {
  let gateway;
  let mock;
  let key;
  let chatOnly;
  const BUDGET = 32 * MiB;

  before(async () => {
    mock = await startMock('local');
    key = mintKey('uploader');
    chatOnly = mintKey('embeddings-only');
    gateway = await startGateway(policy({
      backends: [backendFor('local-a', mock)],
      tiers: { local: { backends: ['local-a'] } },
      keys: [
        { id: 'uploader', hash: key.hash },
        { id: 'embeddings-only', hash: chatOnly.hash, allow: { endpoints: ['embeddings'] } },
      ],
      server: { access_log: false, cors: { allow_origins: ['https://app.example.com'] } },
      limits: { max_body_bytes: '8MiB', max_inflight_body_bytes: '32MiB' },
    }));
  });
  after(stopAll);

  test('a keyless request announcing a body gets a 401 with Connection: close, its body unread', TIMEOUT, async () => {
    const body = paddedChat(64 * 1024, 'keyless');
    const res = await sendAndRead(gateway.port, [
      head('/v1/chat/completions', { 'Content-Type': 'application/json', 'Content-Length': body.length }), body,
    ]);
    assert.equal(res?.status, 401);
    assert.equal(res.headers.connection?.toLowerCase(), 'close');
    assert.equal(res.json.error.code, 'missing_api_key');
    // Expect: 100-continue: refused before the client sends a byte of the body (no 100 first).
    const { raw, response } = await rawExchange(gateway.port,
      head('/v1/messages', { 'Content-Type': 'application/json', 'Content-Length': 1000, Expect: '100-continue' }));
    assert.equal(response?.status, 401, raw);
    assert.equal(response.json.type, 'error');
    assert.equal(response.json.error.type, 'authentication_error');
  });

  test('a key without the endpoint scope is a 403 on the head; an unknown path a 404 after the key', TIMEOUT, async () => {
    const auth = { authorization: `Bearer ${chatOnly.key}`, 'Content-Type': 'application/json' };
    let res = await sendAndRead(gateway.port, [head('/v1/chat/completions', { ...auth, 'Content-Length': 4 * MiB }), 'x'.repeat(1000)]);
    assert.equal(res?.status, 403);
    assert.equal(res.headers.connection?.toLowerCase(), 'close');
    res = await sendAndRead(gateway.port, [head('/v1/nowhere', { ...auth, 'Content-Length': 4 * MiB }), 'x'.repeat(1000)]);
    assert.equal(res?.status, 404);
    assert.equal(res.headers.connection?.toLowerCase(), 'close');
  });

  test('without a body, a 401 keeps the connection; preflights need no key', TIMEOUT, async () => {
    const conn = new RawConnection(gateway.port);
    try {
      let res = await conn.send(`GET /v1/models HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      assert.equal(res.status, 401);
      assert.notEqual(res.headers.connection?.toLowerCase(), 'close');
      res = await conn.send(`OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: ${HOST}\r\nOrigin: https://app.example.com\r\n` +
        'Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\n\r\n');
      assert.equal(res.status, 204);
      assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
      res = await conn.send(`GET /v1/models HTTP/1.1\r\nHost: ${HOST}\r\nAuthorization: Bearer ${key.key}\r\n\r\n`);
      assert.equal(res.status, 200);
    } finally {
      conn.destroy();
    }
    // The admin plane's health check is separate and needs no key.
    const health = await request({ port: gateway.adminPort, path: '/healthz' });
    assert.equal(health.status, 200);
  });

  test('keyless connections announcing 8 MiB bodies do not grow memory beyond the budget', TIMEOUT, async () => {
    const CONNECTIONS = Number(process.env.SY_PREAUTH_CONNECTIONS ?? 1000);
    const SENT = 512 * 1024;  // of each announced 8 MiB body: 512 MiB in all
    const pid = gateway.proc.pid;
    // Warm up (allocators, pools), then take the baseline.
    assert.equal((await post(gateway, '/v1/chat/completions', chatBody('auto'), {
      headers: { authorization: `Bearer ${key.key}` },
    })).status, 200);
    const baselineKb = procStatusKb(pid, 'VmRSS');
    let peakKb = baselineKb;
    const sampler = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, procStatusKb(pid, 'VmRSS'));
      } catch {
        // the process is gone: the assertions below say so
      }
    }, 20);
    const headText = head('/v1/chat/completions', { 'Content-Type': 'application/json', 'Content-Length': 8 * MiB });
    const part = Buffer.alloc(SENT, 'a');  // one buffer, written to every socket
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => sendAndRead(gateway.port, [headText, part], 60_000)));
    clearInterval(sampler);
    peakKb = Math.max(peakKb, procStatusKb(pid, 'VmRSS'), procStatusKb(pid, 'VmHWM') - 0);
    const elapsed = Date.now() - started;
    const statuses = {};
    for (const r of responses) statuses[r?.status ?? 'none'] = (statuses[r?.status ?? 'none'] ?? 0) + 1;
    const growthMiB = (peakKb - baselineKb) / 1024;
    console.log(`# ${CONNECTIONS} keyless connections x ${SENT / 1024} KiB sent of 8 MiB announced: ` +
      `statuses ${JSON.stringify(statuses)}, RSS baseline ${(baselineKb / 1024).toFixed(1)} MiB, ` +
      `peak ${(peakKb / 1024).toFixed(1)} MiB (+${growthMiB.toFixed(1)} MiB), ${elapsed} ms`);
    assert.equal(statuses[401], CONNECTIONS, `every connection gets its 401: ${JSON.stringify(statuses)}`);
    // The bodies are never held: growth stays within the body budget (nothing of it is used here)
    // plus the per-connection state of this many connections at once.
    assert.ok(growthMiB < BUDGET / MiB + 32,
      `RSS grew by ${growthMiB.toFixed(1)} MiB (budget ${BUDGET / MiB} MiB)`);
    // And the gateway still serves.
    assert.equal((await post(gateway, '/v1/chat/completions', chatBody('auto'), {
      headers: { authorization: `Bearer ${key.key}` },
    })).status, 200);
  });
});

describe('the in-flight body budget', { timeout: 300_000 }, () => {
  let gateway;
  let mock;
  let key;
  const auth = () => ({ authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' });

  before(async () => {
    mock = await startMock('local');
    key = mintKey('uploader');
    gateway = await startGateway(policy({
      backends: [backendFor('local-a', mock)],
      tiers: { local: { backends: ['local-a'] } },
      keys: [{ id: 'uploader', hash: key.hash }],
      server: { access_log: false },
      limits: { max_body_bytes: '1MiB', max_inflight_body_bytes: '2MiB', body_timeout: '20s' },
    }));
  });
  after(stopAll);

  // Starts an authenticated upload of `body` and sends only its first half: the gateway holds
  // the announced length against the budget until the request is done.
  async function holdUpload(body, marker) {
    const conn = new RawConnection(gateway.port);
    await conn.connected;
    const response = conn.next(30_000);
    conn.write(head('/v1/chat/completions', { ...auth(), 'Content-Length': body.length }));
    conn.socket.write(body.subarray(0, body.length / 2));
    return { conn, response, rest: () => conn.socket.write(body.subarray(body.length / 2)), marker };
  }

  test('bodies beyond the budget get 503 with Retry-After; those within it arrive whole', TIMEOUT, async () => {
    const size = 1 * MiB - 1024;
    const a = await holdUpload(paddedChat(size, 'upload-a'), 'upload-a');
    const b = await holdUpload(paddedChat(size, 'upload-b'), 'upload-b');
    await new Promise((r) => setTimeout(r, 300));  // both heads read and admitted
    try {
      // The budget is full: a third upload is refused on its head, in each surface's shape.
      const third = paddedChat(size, 'upload-c');
      let res = await sendAndRead(gateway.port, [head('/v1/chat/completions', { ...auth(), 'Content-Length': third.length }), third]);
      assert.equal(res?.status, 503);
      assert.equal(res.headers['retry-after'], '1');
      assert.equal(res.headers.connection?.toLowerCase(), 'close');
      assert.equal(res.json.error.code, 'server_busy');
      assert.match(res.json.error.message, /memory budget/);
      res = await sendAndRead(gateway.port, [head('/v1/messages', { ...auth(), 'Content-Length': third.length }), third]);
      assert.equal(res?.status, 503);
      assert.equal(res.headers['retry-after'], '1');
      assert.equal(res.json.type, 'error');
      assert.equal(res.json.error.type, 'overloaded_error');
      // A chunked upload is counted as it grows: refused too.
      res = await sendAndRead(gateway.port, [head('/v1/chat/completions', { ...auth(), 'Transfer-Encoding': 'chunked' }),
        `${(64 * 1024).toString(16)}\r\n${'x'.repeat(64 * 1024)}\r\n`]);
      assert.equal(res?.status, 503);
      assert.equal(res.headers['retry-after'], '1');

      assert.equal(metricValue(await scrapeMetrics(gateway), 'switchyard_downstream_rejections_total',
        { reason: 'inflight_body_budget' }), 3);
      // The two held uploads are what the budget holds now.
      assert.equal(metricValue(await scrapeMetrics(gateway), 'switchyard_inflight_body_bytes'), 2 * size);

      // The two within the budget finish and are forwarded whole.
      a.rest();
      b.rest();
      const [ra, rb] = await Promise.all([a.response, b.response]);
      assert.equal(ra.status, 200, ra.body);
      assert.equal(rb.status, 200, rb.body);
      const seen = (await mock.requests()).map((r) => r.body);
      for (const marker of ['upload-a', 'upload-b']) {
        const got = seen.find((r) => r?.messages?.[0]?.content?.startsWith?.(marker));
        assert.ok(got, `${marker} reached the backend`);
        assert.equal(got.messages[0].content, JSON.parse(paddedChat(size, marker)).messages[0].content);
      }
    } finally {
      a.conn.destroy();
      b.conn.destroy();
    }
    // Released when done: the refused upload now goes through, and so does a chunked one.
    const retry = paddedChat(size, 'upload-c');
    let res = await sendAndRead(gateway.port, [head('/v1/chat/completions', { ...auth(), 'Content-Length': retry.length }), retry]);
    assert.equal(res?.status, 200, res?.body);
    const chunked = paddedChat(700 * 1024, 'chunked');
    res = await sendAndRead(gateway.port, [head('/v1/chat/completions', { ...auth(), 'Transfer-Encoding': 'chunked' }),
      `${chunked.length.toString(16)}\r\n`, chunked, '\r\n0\r\n\r\n']);
    assert.equal(res?.status, 200, res?.body);
    await waitFor(async () => metricValue(await scrapeMetrics(gateway), 'switchyard_inflight_body_bytes') === 0,
      { what: 'every lease given back' });
  });

  test('many concurrent requests within the budget all succeed, chunked ones too', TIMEOUT, async () => {
    // 30 x 32 KiB with a Content-Length (counted exactly), and 8 chunked (counted as they grow,
    // 64 KiB ahead of what arrived, so up to ~100 KiB each): all fit the 2 MiB budget at once.
    const sized = Array.from({ length: 30 }, (_, i) => {
      const body = paddedChat(32 * 1024, `small-${i}`);
      return post(gateway, '/v1/chat/completions', body, { headers: { ...auth(), 'content-length': body.length } });
    });
    const chunked = Array.from({ length: 8 }, (_, i) =>
      post(gateway, '/v1/chat/completions', paddedChat(32 * 1024, `chunked-${i}`), { headers: auth() }));
    const results = await Promise.all([...sized, ...chunked]);
    assert.deepEqual(results.map((r) => r.status), Array(38).fill(200), JSON.stringify(results.map((r) => r.status)));
  });
});
