// Process lifecycle: graceful drain on SIGTERM, hot reload on SIGHUP, `switchyard lint`, startup
// validation, the admin plane and the request metrics.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  HOST,
  RawConnection,
  backendFor,
  chatBody,
  makeTempDir,
  metricSum,
  metricValue,
  parseMetrics,
  policy,
  post,
  request,
  runCli,
  scrapeMetrics,
  sleep,
  sseData,
  startGateway,
  startMock,
  stopAll,
  waitFor,
  writeConfig,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };

// Starts a streamed chat request. `firstContent` resolves when the first content chunk arrived;
// `done` resolves {status, body, complete, error} when the response ended (complete = the
// chunked body was terminated properly).
function startStream(port, body) {
  let resolveFirst;
  const firstContent = new Promise((resolve) => (resolveFirst = resolve));
  const done = new Promise((resolve) => {
    const req = http.request({
      host: HOST, port, method: 'POST', path: '/v1/chat/completions', agent: false,
      headers: { 'content-type': 'application/json' },
    });
    const timer = setTimeout(() => req.destroy(new Error('stream timed out')), 45_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      resolve({ status: 0, body: '', complete: false, error });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
        if (/"content":"[^"]+"/.test(text)) resolveFirst(Date.now());
      });
      res.on('aborted', () => {});
      res.on('error', (error) => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, body: text, complete: false, error });
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, body: text, complete: res.complete });
      });
    });
    req.end(JSON.stringify(body));
  });
  return { firstContent, done };
}

function connectOutcome(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err) => resolve(err.code));
  });
}

const streamText = (body) => sseData(body).filter((d) => d !== '[DONE]')
  .map((d) => JSON.parse(d).choices?.[0]?.delta?.content ?? '').join('');

describe('graceful shutdown on SIGTERM', { timeout: 300_000 }, () => {
  let mock;

  before(async () => {
    mock = await startMock('alpha');
  });

  after(stopAll);

  const config = (grace) => policy({
    backends: [backendFor('local-a', mock)],
    tiers: { local: { backends: ['local-a'] } },
    server: { shutdown_grace: grace },
  });

  test('a slow stream in flight completes, new connections are refused, and the process exits 0 within grace', TIMEOUT, async () => {
    const gateway = await startGateway(config('5s'));
    const stream = startStream(gateway.port,
      chatBody('auto', 'mock:tokens_per_sec=5 mock:reply_tokens=10', { stream: true }));
    await stream.firstContent;
    const signalledAt = Date.now();
    gateway.signal('SIGTERM');

    // Draining: the data listener goes away, the admin plane says not ready.
    await waitFor(async () => (await connectOutcome(gateway.port)) === 'ECONNREFUSED',
      { timeoutMs: 3000, what: 'new connections to be refused' });
    const ready = await request({ port: gateway.adminPort, path: '/readyz' });
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.json, { status: 'draining' });

    const result = await stream.done;
    assert.equal(result.error, undefined, `the stream broke: ${result.error?.message}`);
    assert.equal(result.status, 200);
    assert.ok(result.complete, 'the chunked stream was terminated properly');
    assert.equal(sseData(result.body).at(-1), '[DONE]');
    assert.equal(streamText(result.body), 'Hello from alpha. lorem ipsum dolor sit amet consectetur adipiscing');
    const streamEndedAt = Date.now();
    assert.ok(streamEndedAt - signalledAt > 500, 'the stream really was in flight during the drain');

    const exit = await gateway.waitExit(10_000);
    assert.ok(exit, 'the gateway did not exit');
    assert.equal(exit.code, 0, gateway.proc.stderr);
    const exitedAt = Date.now();
    assert.ok(exitedAt - signalledAt < 5000 + 1000, `exited ${exitedAt - signalledAt} ms after SIGTERM; grace is 5 s`);
    const messages = gateway.logLines().map((l) => l.msg);
    assert.ok(messages.includes('shutting down'));
    assert.equal(messages.at(-1), 'stopped');
  });

  test('idle keep-alive connections do not hold up the drain', TIMEOUT, async () => {
    const gateway = await startGateway(config('20s'));
    const conn = new RawConnection(gateway.port);
    try {
      const res = await conn.send(`GET /v1/models HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      assert.equal(res.status, 200);
      const signalledAt = Date.now();
      gateway.signal('SIGTERM');
      const exit = await gateway.waitExit(15_000);
      assert.ok(exit, 'the gateway waited for an idle connection');
      assert.equal(exit.code, 0);
      assert.ok(Date.now() - signalledAt < 10_000, 'the drain waited for the idle connection');
      assert.ok(await Promise.race([conn.closed, sleep(2000).then(() => false)]), 'the idle connection was closed');
    } finally {
      conn.destroy();
    }
  });

  // Regression: the drain aborts the acceptor's pending move-accept, whose socket belongs to a
  // worker; the acceptor's io_context used to be destroyed after the workers', so that socket was
  // freed after its service (heap-use-after-free under ASan). With no client at all the drain
  // stops at once and the aborted accept is never completed: every such shutdown failed.
  test('shutdown exits cleanly every time, with an idle keep-alive client and with none', TIMEOUT, async () => {
    for (let round = 0; round < 6; ++round) {
      const gateway = await startGateway(config('20s'));
      const conn = round % 2 === 0 ? new RawConnection(gateway.port) : null;
      try {
        if (conn) {
          const res = await conn.send(`GET /v1/models HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
          assert.equal(res.status, 200);
        }
        gateway.signal('SIGTERM');
        const exit = await gateway.waitExit(15_000);
        assert.ok(exit, `round ${round}: the gateway did not exit`);
        assert.equal(exit.signal ?? null, null, `round ${round}: ended by a signal\n${gateway.proc.stderr}`);
        assert.equal(exit.code, 0, `round ${round}: exit code\n${gateway.proc.stderr}`);
      } finally {
        conn?.destroy();
      }
    }
  });

  test('a request that outlasts shutdown_grace is cut and the process still exits 0', TIMEOUT, async () => {
    const gateway = await startGateway(config('1s'));
    const stream = startStream(gateway.port,
      chatBody('auto', 'mock:tokens_per_sec=2 mock:reply_tokens=60', { stream: true }));
    await stream.firstContent;
    const signalledAt = Date.now();
    gateway.signal('SIGTERM');
    const exit = await gateway.waitExit(15_000);
    assert.ok(exit, 'the gateway did not exit');
    assert.equal(exit.code, 0, gateway.proc.stderr);
    const took = Date.now() - signalledAt;
    assert.ok(took >= 800, `exited after ${took} ms, before the 1 s grace`);
    assert.ok(took < 8000, `exited only after ${took} ms; grace is 1 s`);
    const result = await stream.done;
    assert.ok(!result.complete, 'the 30 s stream cannot have completed');
  });
});

describe('configuration reload on SIGHUP', { timeout: 300_000 }, () => {
  let gateway;
  let alpha;
  let beta;
  let baseConfig;

  before(async () => {
    [alpha, beta] = await Promise.all([startMock('alpha'), startMock('beta')]);
    baseConfig = policy({
      backends: [backendFor('local-a', alpha, { model: 'model-v1' }), backendFor('local-b', beta, { model: 'beta-model' })],
      tiers: { local: { backends: ['local-a'] } },
      models: { stable: { backend: 'local-a' } },
    });
    gateway = await startGateway(baseConfig);
  });

  after(stopAll);

  const modelIds = async () => (await request({ port: gateway.port, path: '/v1/models' })).json.data.map((m) => m.id);
  const metric = async (name) => metricValue(await scrapeMetrics(gateway), name);

  test('a valid file is applied: a new alias appears and requests in flight finish', TIMEOUT, async () => {
    assert.deepEqual(await modelIds(), ['auto', 'local', 'stable']);
    const inFlight = startStream(gateway.port, chatBody('auto', 'mock:tokens_per_sec=8 mock:reply_tokens=8', { stream: true }));
    await inFlight.firstContent;

    const next = structuredClone(baseConfig);
    next.models['brand-new'] = { backend: 'local-b' };
    next.backends[0].model = 'model-v2';
    writeConfig(gateway.dir, next);
    gateway.signal('SIGHUP');

    await waitFor(async () => (await modelIds()).includes('brand-new'), { what: 'the new alias in /v1/models' });
    assert.deepEqual(await modelIds(), ['auto', 'local', 'stable', 'brand-new']);
    assert.equal(await metric('switchyard_config_reloads_total'), 1);
    assert.equal(await metric('switchyard_config_reload_failures_total'), 0);
    await gateway.waitForLog((l) => l.msg === 'config reloaded', 'the reload log line');

    const res = await post(gateway, '/v1/chat/completions', chatBody('brand-new'));
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['x-switchyard-route'], 'tier=-; backend=local-b; model=beta-model; rule=default');
    const changed = await post(gateway, '/v1/chat/completions', chatBody('auto'));
    assert.equal(changed.headers['x-switchyard-route'], 'tier=local; backend=local-a; model=model-v2; rule=default');
    assert.equal((await alpha.lastRequest()).model, 'model-v2');

    const result = await inFlight.done;
    assert.equal(result.status, 200);
    assert.ok(result.complete, 'the stream that started before the reload was cut');
    assert.equal(sseData(result.body).at(-1), '[DONE]');
    assert.equal(streamText(result.body), 'Hello from alpha. lorem ipsum dolor sit amet');
  });

  test('a reload changes the request limits for new requests', TIMEOUT, async () => {
    const body = JSON.stringify(chatBody('stable', 'x'.repeat(3000)));
    assert.equal((await post(gateway, '/v1/chat/completions', body, { headers: { 'content-type': 'application/json' } })).status, 200);
    const reloads = await metric('switchyard_config_reloads_total');
    const next = structuredClone(baseConfig);
    next.models['brand-new'] = { backend: 'local-b' };
    next.backends[0].model = 'model-v2';
    next.server.limits = { max_body_bytes: '2KiB' };
    writeConfig(gateway.dir, next);
    gateway.signal('SIGHUP');
    await waitFor(async () => (await metric('switchyard_config_reloads_total')) === reloads + 1, { what: 'the reload' });
    const res = await post(gateway, '/v1/chat/completions', body, { headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 413);
    assert.equal(res.json.error.code, 'body_too_large');
  });

  test('an invalid file is rejected with file:line:col, counted, and the running policy keeps serving', TIMEOUT, async () => {
    const before = await modelIds();
    const reloadsBefore = await metric('switchyard_config_reloads_total');
    const valid = fs.readFileSync(gateway.configFile, 'utf8');
    // A dangling reference, at a known position.
    const broken = `${valid.trimEnd()}\n  ghost-alias:\n    backend: no-such-backend\n`;
    fs.writeFileSync(gateway.configFile, broken);
    const lines = broken.split('\n');
    const line = lines.findIndex((l) => l.includes('no-such-backend')) + 1;
    const column = lines[line - 1].indexOf('no-such-backend') + 1;
    gateway.signal('SIGHUP');

    const logged = await gateway.waitForLog((l) => l.level === 'error' && /rejected/.test(l.msg), 'the rejection log line');
    assert.equal(logged.error, `${gateway.configFile}:${line}:${column}: models.ghost-alias.backend: unknown backend 'no-such-backend'`);
    await waitFor(async () => (await metric('switchyard_config_reload_failures_total')) === 1, { what: 'the failure counter' });
    assert.equal(await metric('switchyard_config_reloads_total'), reloadsBefore);
    assert.deepEqual(await modelIds(), before);
    const res = await post(gateway, '/v1/chat/completions', chatBody('brand-new'));
    assert.equal(res.status, 200, 'the running policy stopped serving');

    // A YAML syntax error is rejected the same way.
    fs.writeFileSync(gateway.configFile, 'backends: [\n  {name: a\n');
    gateway.signal('SIGHUP');
    await waitFor(async () => (await metric('switchyard_config_reload_failures_total')) === 2, { what: 'the second failure' });
    const syntax = gateway.logLines().filter((l) => l.level === 'error' && /rejected/.test(l.msg)).at(-1);
    assert.match(syntax.error, new RegExp(`^${gateway.configFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: invalid YAML`));
    assert.deepEqual(await modelIds(), before);

    // And the good file applies again afterwards.
    fs.writeFileSync(gateway.configFile, valid);
    gateway.signal('SIGHUP');
    await waitFor(async () => (await metric('switchyard_config_reloads_total')) === reloadsBefore + 1, { what: 'the recovery reload' });
    assert.equal((await post(gateway, '/v1/chat/completions', chatBody('stable'))).status, 200);
    assert.equal(gateway.proc.exitInfo, null, 'the gateway is still running');
  });

  test('a reload logs the new policy\'s lint warnings, as startup does', TIMEOUT, async () => {
    const reloads = await metric('switchyard_config_reloads_total');
    const next = structuredClone(baseConfig);
    next.backends.push(backendFor('spare', beta, { model: 'spare-model' }));  // named by nothing
    writeConfig(gateway.dir, next);
    gateway.signal('SIGHUP');
    const warned = await gateway.waitForLog(
      (l) => l.level === 'warn' && l.msg === 'policy warning' && l.warning.includes("backend 'spare' is unused"),
      'the lint warning about the unused backend');
    assert.ok(warned.warning.startsWith(`${gateway.configFile}:`), warned.warning);
    assert.match(warned.warning, /:\d+:\d+: warning: backends\[2\]: /);
    await waitFor(async () => (await metric('switchyard_config_reloads_total')) === reloads + 1, { what: 'the reload' });
  });
});

describe('switchyard lint and startup validation', { timeout: 120_000 }, () => {
  let dir;
  const badYaml = [
    'server:',
    '  listen: 127.0.0.1:0',
    '  colour: blue',
    '  limits: {idle_timeout: 5 parsecs}',
    'admin: {listen: 127.0.0.1:0}',
    'auth: {anonymous: true}',
    'backends:',
    '  - name: a',
    '    kind: openai',
    '    url: http://127.0.0.1:1',
    '    model: m',
    'tiers:',
    '  local: {backends: [a, nope]}',
    'models:',
    '  x: {backend: ghost}',
    '',
  ].join('\n');

  before(() => {
    dir = makeTempDir();
  });

  after(stopAll);

  const expectedErrors = (file) => [
    `${file}:3:3: server.colour: unknown key (expected one of: listen, workers, shutdown_grace, tls, limits, access_log, cors, watch_policy)`,
    `${file}:4:26: server.limits.idle_timeout: invalid duration '5 parsecs' (use e.g. 500ms, 10s, 2m, 1h)`,
    `${file}:13:25: tiers.local.backends[1]: unknown backend 'nope'`,
    `${file}:15:16: models.x.backend: unknown backend 'ghost'`,
  ];

  test('lint accepts a valid file with exit 0', TIMEOUT, () => {
    const file = writeConfig(dir, policy({
      backends: [backendFor('a', 'http://127.0.0.1:1'), backendFor('b', 'https://example.invalid:8443', { location: 'external', cost: { input_per_mtok: 1, output_per_mtok: 2 } })],
      tiers: { local: { backends: ['a'] }, frontier: { backends: ['b'] } },
      models: { big: { tier: 'frontier' } },
    }), 'valid.yaml');
    const result = runCli(['lint', '--config', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout.trim(), `${file}: ok (2 backends, 2 tiers, 1 models)`);
  });

  test('lint reports every error as file:line:col: message and exits 1', TIMEOUT, () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, badYaml);
    const result = runCli(['lint', '--config', file]);
    assert.equal(result.code, 1);
    const lines = result.stderr.trimEnd().split('\n');
    for (const line of lines) assert.match(line, /^[^:]+:\d+:\d+: \S.*$/);
    assert.deepEqual(lines, expectedErrors(file));
  });

  test('lint reports a YAML syntax error and an unreadable file', TIMEOUT, () => {
    const file = path.join(dir, 'syntax.yaml');
    fs.writeFileSync(file, 'server:\n  listen: [unclosed\nbackends: []\n');
    let result = runCli(['lint', '--config', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr.trim(), new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: invalid YAML: .+$`));
    const missing = path.join(dir, 'missing.yaml');
    result = runCli(['lint', '--config', missing]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: cannot read file`));
  });

  test('serve with an invalid file exits 1 with the same file:line:col lines and never listens', TIMEOUT, () => {
    const file = path.join(dir, 'bad-serve.yaml');
    fs.writeFileSync(file, badYaml);
    const result = runCli(['serve', '--config', file]);
    assert.equal(result.code, 1);
    const lines = result.stderr.trimEnd().split('\n');
    assert.deepEqual(lines, expectedErrors(file));
    assert.doesNotMatch(result.stderr + result.stdout, /listening/);
  });

  test('lint and serve reject an azure-openai backend without its deployment fields alike', TIMEOUT, () => {
    const file = path.join(dir, 'unservable.yaml');
    fs.writeFileSync(file, [
      'server: {listen: 127.0.0.1:0}',
      'admin: {listen: 127.0.0.1:0}',
      'auth: {anonymous: true}',
      'backends:',
      '  - name: azure',
      '    kind: azure-openai',
      '    url: https://example.openai.azure.com',
      '    model: gpt-4o',
      'tiers:',
      '  frontier: {backends: [azure]}',
      '',
    ].join('\n'));
    const where = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: .*deployment`, 'm');
    const serve = runCli(['serve', '--config', file]);
    assert.equal(serve.code, 1, 'serve accepted the file');
    assert.match(serve.stderr, where, 'serve does not say where the problem is');
    const lint = runCli(['lint', '--config', file]);
    assert.equal(lint.code, 1, `lint passed a file that serve rejects:\n${lint.stdout}serve said:\n${serve.stderr}`);
    assert.match(lint.stderr, where);
  });

  test('the CLI rejects a missing --config or an unknown command with exit 2', TIMEOUT, () => {
    assert.equal(runCli(['lint']).code, 2);
    assert.equal(runCli(['serve']).code, 2);
    assert.equal(runCli(['frobnicate']).code, 2);
  });
});

describe('admin plane and metrics', { timeout: 300_000 }, () => {
  let gateway;

  before(async () => {
    const mock = await startMock('alpha');
    gateway = await startGateway(policy({
      backends: [backendFor('local-a', mock)],
      tiers: { local: { backends: ['local-a'] } },
      models: { direct: { backend: 'local-a' } },
    }));
  });

  after(stopAll);

  test('healthz and readyz answer on the admin listener only', TIMEOUT, async () => {
    const health = await request({ port: gateway.adminPort, path: '/healthz' });
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok' });
    const ready = await request({ port: gateway.adminPort, path: '/readyz' });
    assert.equal(ready.status, 200);
    assert.equal((await request({ port: gateway.adminPort, path: '/nope' })).status, 404);
    assert.equal((await request({ port: gateway.port, path: '/healthz' })).status, 404);
    assert.equal((await request({ port: gateway.port, path: '/metrics' })).status, 404);
    const metrics = await request({ port: gateway.adminPort, path: '/metrics' });
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers['content-type'], /^text\/plain/);
  });

  test('switchyard_requests_total increments by exactly the traffic sent, per label set', TIMEOUT, async () => {
    const series = {
      aliasOk: ['switchyard_requests_total', { endpoint: 'chat', tier: '', backend: 'local-a', code: '200' }],
      tierOk: ['switchyard_requests_total', { endpoint: 'chat', tier: 'local', backend: 'local-a', code: '200' }],
      unknownModel: ['switchyard_requests_total', { endpoint: 'chat', tier: '', backend: '', code: '404' }],
      embeddings: ['switchyard_requests_total', { endpoint: 'embeddings', tier: 'local', backend: 'local-a', code: '200' }],
      models: ['switchyard_requests_total', { endpoint: 'models', tier: '', backend: '', code: '200' }],
      chatDuration: ['switchyard_request_duration_seconds_count', { endpoint: 'chat' }],
      firstByte: ['switchyard_upstream_first_byte_seconds_count', { backend: 'local-a' }],
    };
    const read = (text) => Object.fromEntries(Object.entries(series).map(([k, [n, l]]) => [k, metricSum(text, n, l)]));
    const before = read(await scrapeMetrics(gateway));

    for (let i = 0; i < 3; i++) assert.equal((await post(gateway, '/v1/chat/completions', chatBody('direct'))).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await post(gateway, '/v1/chat/completions', chatBody('local', 'x', { stream: true }))).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await post(gateway, '/v1/chat/completions', chatBody('unknown'))).status, 404);
    assert.equal((await post(gateway, '/v1/embeddings', { model: 'auto', input: 'x' })).status, 200);
    for (let i = 0; i < 4; i++) assert.equal((await request({ port: gateway.port, path: '/v1/models' })).status, 200);

    const expected = { aliasOk: 3, tierOk: 2, unknownModel: 2, embeddings: 1, models: 4, chatDuration: 7, firstByte: 6 };
    let after;
    await waitFor(async () => {
      after = read(await scrapeMetrics(gateway));
      return Object.keys(expected).every((k) => after[k] - before[k] >= expected[k]);
    }, { what: 'the metrics to catch up' });
    await sleep(200);
    after = read(await scrapeMetrics(gateway));
    const delta = Object.fromEntries(Object.keys(expected).map((k) => [k, after[k] - before[k]]));
    assert.deepEqual(delta, expected);

    const text = await scrapeMetrics(gateway);
    assert.match(text, /# TYPE switchyard_request_duration_seconds histogram/);
    const buckets = parseMetrics(text).filter((s) => s.name === 'switchyard_request_duration_seconds_bucket' && s.labels.endpoint === 'chat');
    assert.equal(buckets.find((s) => s.labels.le === '+Inf').value, after.chatDuration);
    await waitFor(async () => metricValue(await scrapeMetrics(gateway), 'switchyard_active_connections') === 0,
      { what: 'active connections back to 0' });
  });

  test('upstream errors and downstream rejections have their own counters', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions', chatBody('auto', 'mock:disconnect_after=0'));
    assert.equal(res.status, 502);
    const rejected = await request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions',
      headers: { 'content-length': '99999999999' } }).catch((err) => err);
    assert.equal(rejected.status, 413);
    await waitFor(async () => metricSum(await scrapeMetrics(gateway), 'switchyard_requests_total',
      { endpoint: 'chat', tier: 'local', backend: '', code: '502' }) === 1, { what: 'the 502 counted' });
    const text = await scrapeMetrics(gateway);
    assert.match(text, /# TYPE switchyard_upstream_errors_total counter/);
    assert.match(text, /# TYPE switchyard_downstream_rejections_total counter/);
    assert.match(text, /# TYPE switchyard_active_connections gauge/);
    assert.ok(metricSum(text, 'switchyard_upstream_errors_total', { backend: 'local-a' }) >= 1);
    assert.equal(metricValue(text, 'switchyard_downstream_rejections_total', { reason: 'body_too_large' }), 1);
  });
});

