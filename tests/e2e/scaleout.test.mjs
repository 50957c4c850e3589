// Scale-out: several gateway replicas sharing one Redis limit store enforce one global rate limit
// exactly (and, in synced mode, share it through their syncs); Redis going away fails closed (503) or open (served) as the policy says, and service
// resumes when Redis is back; and no client key secret leaks into logs, metrics, error bodies or
// the upstream's request headers. Needs /usr/bin/redis-server (scripts/install-deps installs it; without it the suite fails).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import {
  HOST,
  backendFor,
  chatBody,
  closedPort,
  errorOf,
  makeTempDir,
  metricValue,
  policy,
  request,
  runCli,
  scrapeMetrics,
  spawnTracked,
  startGateway,
  startMock,
  stopAll,
  stopProcess,
  waitFor,
} from './lib/harness.mjs';

const REDIS_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));

const TIMEOUT = { timeout: 60_000 };
const REPLICAS = 3;
const BURST = 1000;
const RPM = 100;
const TINY = 'hi mock:reply_tokens=1';

// ---------------------------------------------------------------------------------------------
// Redis

// Resolves true once the server on `port` answers PING with +PONG.
function redisPing(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let text = '';
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) done(text.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

async function startRedis(port, dir) {
  assert.ok(REDIS_BIN, 'redis-server not found: scripts/install-deps installs it (Debian package redis-server)');
  const proc = spawnTracked(REDIS_BIN, [
    '--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir,
  ]);
  await waitFor(async () => {
    if (proc.exitInfo) throw new Error(`redis-server exited: ${proc.stdout}${proc.stderr}`);
    return redisPing(port);
  }, { timeoutMs: 10_000, intervalMs: 50, what: `redis-server on port ${port} to answer PING` });
  return proc;
}

// ---------------------------------------------------------------------------------------------
// Keys

// `switchyard keys new`: {id, secret, hash, entry} (entry: the policy's keys item).
function newKey(id, team, limits) {
  const out = runCli(['keys', 'new', '--id', id, '--team', team]);
  assert.equal(out.code, 0, out.stderr);
  const secret = /^\s+(syk_\S+)$/m.exec(out.stdout)?.[1];
  const hash = /hash: "([^"]+)"/.exec(out.stdout)?.[1];
  assert.ok(secret && hash, `keys new output: ${out.stdout}`);
  return { id, secret, hash, entry: { id, hash, team, limits } };
}

// The key's CRC32 check characters (policies/keys.cc), so a key with an altered secret can
// still pass the checksum and reach the hash comparison.
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function checkChars(text) {
  let crc = 0xFFFFFFFF;
  for (const byte of Buffer.from(text, 'latin1')) crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >>> 8);
  let value = (crc ^ 0xFFFFFFFF) >>> 0;
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}
const flip = (c) => (c === 'A' ? 'B' : 'A');

// ---------------------------------------------------------------------------------------------
// HTTP with a pooled agent, and a record of everything received

const received = []; // {status, headers, body} of every gateway response in this file

async function send(gateway, { agent = false, model = 'local', text = TINY, headers = {}, timeoutMs = 30_000 } = {}) {
  const started = Date.now();
  const res = await request({
    port: gateway.port, method: 'POST', path: '/v1/chat/completions', body: chatBody(model, text), headers, agent, timeoutMs,
  });
  const result = { ...res, ms: Date.now() - started };
  received.push(result);
  return result;
}

const bearer = (key) => ({ authorization: `Bearer ${key.secret}` });

function assertOpenAiError(res, status, code, type) {
  assert.equal(res.status, status, `status; body: ${res.body}`);
  const error = errorOf(res.json);
  assert.deepEqual(Object.keys(res.json), ['error']);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(error.code, code);
  assert.equal(error.type, type);
  assert.equal(error.param, null);
  assert.equal(typeof error.message, 'string');
  return error;
}

// The upstream must never see a client key, in any header.
async function assertUpstreamHeadersClean(mock, keys) {
  const headers = await mock.lastRequestHeaders();
  assert.ok(headers, 'the mock saw a request');
  const text = JSON.stringify(headers);
  assert.ok(!text.includes('syk_'), `a client key reached the upstream: ${text}`);
  for (const key of keys) assert.ok(!text.includes(key.secret));
  assert.equal(headers['x-api-key'], undefined);
  return headers;
}

const sumOver = async (gateways, name, labels) =>
  (await Promise.all(gateways.map(scrapeMetrics))).reduce((sum, text) => sum + metricValue(text, name, labels), 0);

// ---------------------------------------------------------------------------------------------

describe('N replicas sharing one Redis limit store', { timeout: 60_000 }, () => {
  let mock;
  let redis;
  let redisPort;
  let redisDir;
  let replicas = [];
  let openGateway; // fail: open, started in the Redis-down test
  const allGateways = [];
  const agents = [];
  let batch;
  let probe;
  let spare;
  let keys;

  function configFor(fail) {
    const config = policy({
      backends: [
        backendFor('llama-local', mock, { model: 'llama-3' }),
        backendFor('cloud', mock, { model: 'gpt-4o', location: 'external' }),
      ],
      tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
      keys: keys.map((k) => k.entry),
    });
    config.state = { store: 'redis', redis: { url: `redis://${HOST}:${redisPort}/0`, timeout: '200ms', fail } };
    return config;
  }

  before(async () => {
    batch = newKey('batch', 't', { rpm: RPM });
    probe = newKey('probe', 't', { rpm: 1_000_000 }); // limited, so every request goes to the store
    spare = newKey('spare', 't', undefined); // never sent anywhere
    keys = [batch, probe, spare];
    redisDir = makeTempDir('sy-redis-');
    redisPort = await closedPort();
    [redis, mock] = await Promise.all([
      startRedis(redisPort, redisDir),
      startMock('scale', ['--latency-ms', '5', '--threads', '2']),
    ]);
    replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startGateway(configFor('closed'))));
    allGateways.push(...replicas);
    for (let i = 0; i < REPLICAS; i++) agents.push(new http.Agent({ keepAlive: true, maxSockets: 100 }));
  });

  after(async () => {
    for (const agent of agents) agent.destroy();
    await stopAll();
  });

  test(`${REPLICAS} replicas admit exactly ${RPM} of ${BURST} concurrent requests under one rpm limit`, TIMEOUT, async () => {
    const started = Date.now();
    const settled = await Promise.allSettled(Array.from({ length: BURST }, (_, i) =>
      send(replicas[i % REPLICAS], { agent: agents[i % REPLICAS], headers: bearer(batch) })));
    const elapsed = Date.now() - started;
    const failures = settled.filter((s) => s.status === 'rejected').map((s) => s.reason.message);
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} requests failed at the socket level`);
    const results = settled.map((s) => s.value);
    const byStatus = {};
    for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    const admitted = byStatus[200] ?? 0;
    const perReplica = replicas.map((_, g) => results.filter((r, i) => i % REPLICAS === g && r.status === 200).length);
    console.log(`admitted ${admitted} of ${BURST} (limit ${RPM}, overshoot ${admitted - RPM}); ` +
      `per replica ${perReplica.join('/')}; statuses ${JSON.stringify(byStatus)}; ${elapsed} ms`);

    const other = results.find((r) => r.status !== 200 && r.status !== 429);
    assert.equal(other, undefined, `unexpected answer: ${other?.status} ${other?.body}`);
    assert.equal(admitted, RPM, `admitted ${admitted}, statuses ${JSON.stringify(byStatus)}`);
    assert.equal(byStatus[429], BURST - RPM);

    for (const r of results) {
      if (r.status === 200) {
        assert.equal(r.json.object, 'chat.completion');
        assert.equal(r.json.usage.completion_tokens, 1);
        continue;
      }
      const error = assertOpenAiError(r, 429, 'rate_limit_exceeded', 'rate_limit_error');
      assert.match(r.headers['retry-after'] ?? '', /^\d+$/, 'an integer Retry-After');
      const retryAfter = Number(r.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
      assert.equal(error.message, `Rate limit reached for key 'batch': requests per minute. Retry after ${retryAfter} s.`);
    }

    const rejections = await sumOver(replicas, 'switchyard_limit_rejections_total', { limit: 'rpm' });
    assert.equal(rejections, BURST - RPM, 'switchyard_limit_rejections_total{limit="rpm"} over the replicas');
    assert.equal(await sumOver(replicas, 'switchyard_limit_store_errors_total'), 0);
    // Every admit is one timed Redis call (and every admitted request's settle, once answered).
    assert.ok(await sumOver(replicas, 'switchyard_redis_duration_seconds_count', { op: 'admit' }) >= BURST,
      'switchyard_redis_duration_seconds_count{op="admit"} counts every admit');
    assert.ok(await sumOver(replicas, 'switchyard_redis_duration_seconds_count', { op: 'settle' }) >= 1);
    assert.equal(await sumOver(replicas, 'switchyard_redis_errors_total'), 0);
    await assertUpstreamHeadersClean(mock, keys);

    // The limit holds for any replica afterwards, and an unrelated key is not affected.
    for (const gateway of replicas) {
      assertOpenAiError(await send(gateway, { headers: bearer(batch) }), 429, 'rate_limit_exceeded', 'rate_limit_error');
      assert.equal((await send(gateway, { headers: bearer(probe) })).status, 200);
    }
    assert.ok(elapsed < 45_000, `the burst took ${elapsed} ms`);
  });

  test('Redis down: fail closed answers 503 limit_store_unavailable at once, fail open serves; back when Redis is', TIMEOUT, async () => {
    const [closedGw] = replicas;
    openGateway = await startGateway(configFor('open'));
    allGateways.push(openGateway);
    for (const gateway of [...replicas, openGateway]) {
      const res = await send(gateway, { headers: bearer(probe) });
      assert.equal(res.status, 200, res.body);
    }
    const errorsBefore = metricValue(await scrapeMetrics(closedGw), 'switchyard_limit_store_errors_total');
    const openErrorsBefore = metricValue(await scrapeMetrics(openGateway), 'switchyard_limit_store_errors_total');

    await stopProcess(redis);
    assert.equal(await redisPing(redisPort, 500), false, 'redis is down');

    for (let i = 0; i < 3; i++) {
      const res = await send(closedGw, { headers: bearer(probe) });
      const error = assertOpenAiError(res, 503, 'limit_store_unavailable', 'server_error');
      assert.ok(res.ms < 1000, `the 503 took ${res.ms} ms`);
      assert.equal(res.headers['retry-after'], '1');
      assert.ok(!error.message.includes(String(redisPort)), `the client is not told where the store is: ${error.message}`);
    }
    // Every replica fails closed, not just the one asked first.
    for (const gateway of replicas.slice(1)) {
      assertOpenAiError(await send(gateway, { headers: bearer(probe) }), 503, 'limit_store_unavailable', 'server_error');
    }
    const errorsDown = metricValue(await scrapeMetrics(closedGw), 'switchyard_limit_store_errors_total');
    assert.ok(errorsDown >= errorsBefore + 3, `switchyard_limit_store_errors_total ${errorsBefore} -> ${errorsDown}`);
    const redisDown = metricValue(await scrapeMetrics(closedGw), 'switchyard_redis_errors_total', { op: 'admit', reason: 'unavailable' });
    assert.ok(redisDown >= 1, `switchyard_redis_errors_total{op="admit",reason="unavailable"} ${redisDown}`);
    assert.ok(closedGw.logLines().some((l) => l.msg === 'limit store unavailable' && l.fail === 'closed'));

    for (let i = 0; i < 3; i++) {
      const res = await send(openGateway, { headers: bearer(probe) });
      assert.equal(res.status, 200, `fail open serves: ${res.body}`);
      assert.ok(res.ms < 1000, `fail open answered in ${res.ms} ms`);
    }
    const openErrorsDown = metricValue(await scrapeMetrics(openGateway), 'switchyard_limit_store_errors_total');
    assert.ok(openErrorsDown >= openErrorsBefore + 3, `fail open still counts store errors: ${openErrorsBefore} -> ${openErrorsDown}`);
    assert.ok(openGateway.logLines().some((l) => l.msg === 'limit store unavailable' && l.fail === 'open'));

    redis = await startRedis(redisPort, redisDir);
    const restarted = Date.now();
    const seen = [];
    await waitFor(async () => {
      const res = await send(closedGw, { headers: bearer(probe) });
      seen.push(res.status);
      return res.status === 200;
    }, { timeoutMs: 5000, intervalMs: 50, what: 'a 200 from the fail-closed replica after Redis came back' });
    console.log(`admitted again ${Date.now() - restarted} ms after Redis answered PING (statuses ${seen.join(',')})`);
    for (const gateway of [...replicas, openGateway]) {
      await waitFor(async () => (await send(gateway, { headers: bearer(probe) })).status === 200,
        { timeoutMs: 5000, intervalMs: 50, what: 'every replica to admit again' });
    }
    // ...and the store is really used again: no new store errors, and limits are enforced. Redis
    // ran without persistence, so the restarted one starts with empty windows.
    const errorsUp = await sumOver([...replicas, openGateway], 'switchyard_limit_store_errors_total');
    const statuses = [];
    for (let i = 0; i < RPM + 2; i++) {
      statuses.push((await send(allGateways[i % allGateways.length], { headers: bearer(batch) })).status);
    }
    assert.equal(statuses.filter((s) => s === 200).length, RPM, `statuses ${statuses.join(',')}`);
    assert.deepEqual(statuses.slice(RPM), [429, 429]);
    assert.equal(await sumOver([...replicas, openGateway], 'switchyard_limit_store_errors_total'), errorsUp);
  });

  test('no key secret in logs, metrics, error bodies or upstream headers', TIMEOUT, async () => {
    const [gateway] = replicas;
    // A valid key, as a bearer token and as x-api-key: served, and the upstream gets neither.
    for (const headers of [bearer(probe), { 'x-api-key': probe.secret }]) {
      const res = await send(gateway, { headers });
      assert.equal(res.status, 200, res.body);
      await assertUpstreamHeadersClean(mock, keys);
    }
    // The last character altered: the checksum fails.
    const badCheck = probe.secret.slice(0, -1) + flip(probe.secret.at(-1));
    // The secret's last character altered, with a matching checksum: the hash comparison fails.
    const unchecked = probe.secret.slice(0, -6);
    assert.equal(checkChars(unchecked), probe.secret.slice(-6), 'the CRC32 check characters are reproduced');
    const altered = unchecked.slice(0, -1) + flip(unchecked.at(-1));
    const badSecret = altered + checkChars(altered);
    for (const wrong of [badCheck, badSecret]) {
      for (const headers of [{ authorization: `Bearer ${wrong}` }, { 'x-api-key': wrong }]) {
        const res = await send(gateway, { headers });
        const error = assertOpenAiError(res, 401, 'invalid_api_key', 'authentication_error');
        assert.equal(error.message, 'Invalid API key.');
        assert.ok(!res.body.includes(wrong) && !res.body.includes('probe'), `nothing of the key is echoed: ${res.body}`);
        assert.equal(res.headers['www-authenticate'], 'Bearer');
      }
    }
    // A key inside a prompt: allowed to the self-hosted backend (restricted, default rules),
    // refused for the external one with a message that names the detector, not the value.
    const inPrompt = `my key is ${spare.secret}, keep it safe`;
    const local = await send(gateway, { headers: bearer(probe), text: inPrompt });
    assert.equal(local.status, 200, local.body);
    await assertUpstreamHeadersClean(mock, keys);
    const before = (await mock.stats()).requests;
    const external = await send(gateway, { headers: bearer(probe), model: 'frontier', text: inPrompt });
    const error = assertOpenAiError(external, 403, 'policy_violation', 'permission_error');
    assert.match(error.message, /secret\.switchyard_key/);
    assert.equal((await mock.stats()).requests, before, 'nothing reached the external backend');

    // The sweep, over everything this file did.
    const secrets = keys.map((k) => k.secret).concat([badCheck, badSecret]);
    const leaks = [];
    const look = (where, text) => {
      for (const secret of secrets) if (text.includes(secret)) leaks.push(`${where} contains ${secret.slice(0, 12)}...`);
      // Even a fragment of a secret (its random part) must not show up.
      for (const key of keys) if (text.includes(key.secret.slice(-49, -30))) leaks.push(`${where} contains part of ${key.id}'s secret`);
    };
    for (const [i, g] of allGateways.entries()) {
      look(`gateway ${i} stderr`, g.proc.stderr);
      look(`gateway ${i} stdout`, g.proc.stdout);
      if (!g.proc.exitInfo) look(`gateway ${i} /metrics`, await scrapeMetrics(g));
    }
    let errorBodies = 0;
    for (const r of received) {
      look(`response headers (${r.status})`, JSON.stringify(r.headers));
      if (r.status >= 400) {
        errorBodies += 1;
        look(`error body (${r.status})`, r.body);
      }
    }
    await assertUpstreamHeadersClean(mock, keys);
    assert.deepEqual(leaks, []);
    const metrics = await scrapeMetrics(gateway);
    const finding = (action) => metricValue(metrics, 'switchyard_dlp_findings_total',
      { detector: 'secret.switchyard_key', action, direction: 'request' });
    assert.ok(finding('allow') >= 1 && finding('block') >= 1, 'the key in the prompt was found both times');
    assert.ok(metricValue(metrics, 'switchyard_dlp_blocks_total', { rule: 'restricted-stays-home' }) >= 1);
    // Key ids are never metric labels either.
    for (const key of keys) assert.ok(!new RegExp(`"${key.id}"`).test(metrics), `key id ${key.id} in /metrics`);
    console.log(`secret sweep: ${allGateways.length} gateways' logs and metrics, ${received.length} responses ` +
      `(${errorBodies} error bodies), upstream headers: clean`);
  });
});

describe('Two replicas in synced mode (state.redis.sync) share one limit', { timeout: 60_000 }, () => {
  const SYNC_RPM = 10;
  let mock;
  let redis;
  let redisPort;
  let redisDir;
  let key;

  function configFor(fail) {
    const config = policy({
      backends: [backendFor('llama-local', mock, { model: 'llama-3' })],
      tiers: { local: { backends: ['llama-local'] } },
      keys: [key.entry],
    });
    config.state = { store: 'redis', redis: { url: `redis://${HOST}:${redisPort}/0`, timeout: '200ms', fail, sync: '20ms' } };
    return config;
  }

  before(async () => {
    key = newKey('synced', 'sync-team', { rpm: SYNC_RPM });
    redisDir = makeTempDir('sy-redis-sync-');
    redisPort = await closedPort();
    [redis, mock] = await Promise.all([startRedis(redisPort, redisDir), startMock('sync', ['--latency-ms', '1'])]);
  });

  after(async () => {
    await stopAll();
  });

  test('what one replica admitted counts on the other after a sync; Redis down fails closed or open as configured', TIMEOUT, async () => {
    const [a, b] = await Promise.all([startGateway(configFor('closed')), startGateway(configFor('open'))]);
    assert.equal((await send(b, { headers: bearer(key) })).status, 200); // b knows the key
    for (let i = 0; i < 6; i++) assert.equal((await send(a, { headers: bearer(key) })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 300)); // many 20 ms syncs
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(b, { headers: bearer(key) })).status);
    // b's own 1 + a's 6: 3 more fit under rpm 10.
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.ok(await sumOver([a, b], 'switchyard_redis_duration_seconds_count', { op: 'sync' }) > 0);
    assert.equal(await sumOver([a, b], 'switchyard_redis_duration_seconds_count', { op: 'admit' }), 0,
      'no script per request in synced mode');

    await stopProcess(redis);
    await new Promise((resolve) => setTimeout(resolve, 500)); // figures stale: 3 x 20 ms + 200 ms
    assertOpenAiError(await send(a, { headers: bearer(key) }), 503, 'limit_store_unavailable', 'server_error');
    assert.equal((await send(b, { headers: bearer(key) })).status, 200, 'fail open serves');
    assert.ok(metricValue(await scrapeMetrics(a), 'switchyard_redis_errors_total', { op: 'sync', reason: 'unavailable' }) >= 1);

    redis = await startRedis(redisPort, redisDir);
    await waitFor(async () => (await send(a, { headers: bearer(key) })).status !== 503,
      { timeoutMs: 5000, intervalMs: 50, what: 'the fail-closed replica to decide again once Redis is back' });
  });
});
