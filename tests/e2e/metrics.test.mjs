// Metrics for finance and security end to end: tokens, cost, baseline cost and savings per team
// match the usage the clients received; time to first token, blocks and requests carry the right
// labels; the access log has one line per request and no secrets or prompt text; every metric the
// Grafana dashboard queries exists on a live /metrics; and a real Prometheus (Debian's, on
// loopback) scraping the gateway answers "cost per team" correctly through its HTTP API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  E2E_DIR,
  backendFor,
  chatBody,
  closedPort,
  makeTempDir,
  metricSum,
  policy,
  post,
  request,
  scrapeMetrics,
  spawnTracked,
  sseData,
  startGateway,
  startMock,
  stopAll,
  waitFor,
  mintKey,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 90_000 };
const DASHBOARD = path.join(E2E_DIR, '..', '..', 'examples', 'grafana', 'switchyard.json');
const PROMPT_MARKER = 'zebra-quartz-lantern';
const CARD = ['4111', '1111', '1111', '1111'].join(' ');
const PRICES = {
  'llama-local': { input_per_mtok: 0.1, output_per_mtok: 0.2 },
  cloud: { input_per_mtok: 2.5, output_per_mtok: 10 },
};
const BASELINE = { input_per_mtok: 5, output_per_mtok: 15 };

const usd = (price, usage) =>
  (price.input_per_mtok * usage.prompt_tokens + price.output_per_mtok * usage.completion_tokens) / 1e6;

const close = (actual, expected, what) =>
  assert.ok(Math.abs(actual - expected) <= 1e-12 + 1e-9 * Math.abs(expected),
    `${what}: ${actual} != ${expected}`);

async function startPrometheus(dir, target) {
  const port = await closedPort();
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    'scrape_configs:',
    '  - job_name: switchyard',
    `    static_configs: [{targets: ["${target}"]}]`,
    '',
  ].join('\n'));
  const proc = spawnTracked('prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1h',
  ]);
  await waitFor(async () => {
    if (proc.exitInfo) throw new Error(`prometheus exited: ${proc.stderr.slice(-2000)}`);
    const res = await request({ port, path: '/-/ready' }).catch(() => null);
    return res && res.status === 200;
  }, { timeoutMs: 30_000, what: 'prometheus to be ready' });
  const query = async (promql) => {
    const res = await request({ port, path: `/api/v1/query?query=${encodeURIComponent(promql)}` });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.status, 'success');
    return res.json.data.result;
  };
  return { port, proc, query };
}

describe('metrics, access log, dashboard and Prometheus', { timeout: 240_000 }, () => {
  let gateway;
  let dir;
  let keys;
  // What the clients were told, per team and backend.
  const expected = {};
  const requestIds = [];

  before(async () => {
    const [local, cloud] = await Promise.all([startMock('local'), startMock('cloud')]);
    keys = { research: mintKey('researcher', 'research'), legal: mintKey('counsel', 'legal'), intern: mintKey('intern', 'intern') };
    dir = makeTempDir();
    const config = policy({
      backends: [
        backendFor('llama-local', local, { model: 'llama-3', cost: PRICES['llama-local'] }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external', cost: PRICES.cloud }),
      ],
      tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
      keys: [
        { id: 'researcher', hash: keys.research.hash, team: 'research' },
        { id: 'counsel', hash: keys.legal.hash, team: 'legal' },
        { id: 'intern', hash: keys.intern.hash, team: 'intern', limits: { rpm: 1 } },
      ],
    });
    config.accounting = { baseline: BASELINE };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  async function send(team, model, { stream = false, text = `${PROMPT_MARKER} hello` } = {}) {
    const extra = stream ? { stream: true, stream_options: { include_usage: true } } : {};
    const res = await post(gateway, '/v1/chat/completions', chatBody(model, text, extra), {
      headers: { authorization: `Bearer ${keys[team].key}` },
    });
    requestIds.push(res.headers['x-request-id']);
    if (res.status !== 200) return res;
    const usage = stream ? sseData(res.body).filter((e) => e !== '[DONE]').map(JSON.parse).at(-1).usage : res.json.usage;
    assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0, `usage reported: ${res.body.slice(0, 300)}`);
    const backend = model === 'local' ? 'llama-local' : 'cloud';
    const slot = ((expected[team] ??= {})[backend] ??= { prompt_tokens: 0, completion_tokens: 0, requests: 0 });
    slot.prompt_tokens += usage.prompt_tokens;
    slot.completion_tokens += usage.completion_tokens;
    slot.requests += 1;
    return res;
  }

  test('tokens, cost, baseline and savings per team match the usage the clients received', TIMEOUT, async () => {
    for (let i = 0; i < 3; i++) assert.equal((await send('research', 'local')).status, 200);
    assert.equal((await send('research', 'frontier', { stream: true })).status, 200);
    assert.equal((await send('legal', 'frontier')).status, 200);
    assert.equal((await send('legal', 'local', { stream: true })).status, 200);
    const blocked = await send('legal', 'frontier', { text: `card ${CARD}` });
    assert.equal(blocked.status, 403);

    // The log phase records a request's metrics after its answer is written: wait for the last.
    let text = '';
    await waitFor(async () => {
      text = await scrapeMetrics(gateway);
      return metricSum(text, 'switchyard_blocks_total', { reason: 'dlp' }) === 1;
    }, { what: 'the blocked request in the metrics' });
    for (const [team, perBackend] of Object.entries(expected)) {
      let baseline = 0;
      let savings = 0;
      for (const [backend, usage] of Object.entries(perBackend)) {
        const labels = { team, backend };
        close(metricSum(text, 'switchyard_tokens_total', { ...labels, direction: 'input' }), usage.prompt_tokens, `${team}/${backend} input tokens`);
        close(metricSum(text, 'switchyard_tokens_total', { ...labels, direction: 'output' }), usage.completion_tokens, `${team}/${backend} output tokens`);
        close(metricSum(text, 'switchyard_cost_usd_total', labels), usd(PRICES[backend], usage), `${team}/${backend} cost`);
        assert.equal(metricSum(text, 'switchyard_requests_total', { ...labels, code: '200' }), usage.requests);
        baseline += usd(BASELINE, usage);
        savings += Math.max(0, usd(BASELINE, usage) - usd(PRICES[backend], usage));
      }
      close(metricSum(text, 'switchyard_baseline_cost_usd_total', { team }), baseline, `${team} baseline`);
      close(metricSum(text, 'switchyard_savings_usd_total', { team }), savings, `${team} savings`);
    }
    assert.equal(metricSum(text, 'switchyard_requests_total', { team: 'legal', code: '403' }), 1);
    assert.equal(metricSum(text, 'switchyard_blocks_total', { reason: 'dlp' }), 1);
    // One time-to-first-token observation per answered chat request, per tier.
    assert.equal(metricSum(text, 'switchyard_time_to_first_token_seconds_count', { tier: 'local' }), 4);
    assert.equal(metricSum(text, 'switchyard_time_to_first_token_seconds_count', { tier: 'frontier' }), 2);
    assert.match(text, /switchyard_time_to_first_token_seconds_bucket\{[^}]*le="0.35"/, 'LLM-sized TTFT buckets');
  });

  test('the access log has one JSON line per request, with ids and no secrets or prompt text', TIMEOUT, async () => {
    await waitFor(() => requestIds.every((id) => gateway.logLines().some((l) => l.msg === 'request' && l.request_id === id)),
      { what: 'an access log line for every request' });
    const lines = gateway.logLines().filter((l) => l.msg === 'request');
    const blocked = lines.find((l) => l.status === 403);
    assert.equal(blocked.block_reason, 'dlp');
    assert.equal(blocked.team, 'legal');
    const answered = lines.find((l) => l.backend === 'cloud' && l.status === 200 && l.stream === true);
    assert.equal(answered.key_id, 'researcher');
    assert.equal(answered.tier, 'frontier');
    assert.equal(answered.model, 'gpt-4o');
    assert.ok(answered.tokens_in > 0 && answered.tokens_out > 0 && answered.cost_usd > 0);
    assert.ok(answered.ttfb_ms >= 0 && answered.duration_ms >= answered.ttfb_ms);
    const stderr = gateway.proc.stderr;
    for (const secret of [PROMPT_MARKER, '1111', keys.research.key, keys.legal.key]) {
      assert.ok(!stderr.includes(secret), `stderr must not contain ${secret.slice(0, 12)}...`);
    }
  });

  test('server.access_log: false writes no request lines', TIMEOUT, async () => {
    const mock = await startMock('quiet');
    const quiet = await startGateway(policy({
      backends: [backendFor('quiet', mock)],
      tiers: { local: { backends: ['quiet'] } },
      server: { access_log: false },
    }));
    const res = await post(quiet, '/v1/chat/completions', chatBody('auto', 'hello'));
    assert.equal(res.status, 200, res.body);
    await quiet.stop();
    assert.equal(quiet.logLines().filter((l) => l.msg === 'request').length, 0);
    assert.ok(quiet.logLines().some((l) => l.msg === 'listening'), 'other log lines are still written');
  });

  test('every metric the Grafana dashboard queries is exported by the gateway', TIMEOUT, async () => {
    // Families appear once they have a series: an upstream failure, a refused request and a rate
    // limit give the last ones theirs (requests, tokens, routing, blocks... already have one).
    assert.equal((await send('research', 'local', { text: 'mock:disconnect_after=0' })).status, 502);
    const tooLarge = await request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions',
      headers: { 'content-length': '99999999999' } }).catch((err) => err);
    assert.equal(tooLarge.status, 413);
    assert.equal((await send('intern', 'local')).status, 200);
    assert.equal((await send('intern', 'local')).status, 429);
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
    assert.equal(dashboard.uid, 'switchyard-overview');
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.ok(exprs.length >= 20);
    const exported = new Set();
    for (const line of (await scrapeMetrics(gateway)).split('\n')) {
      const m = /^# TYPE (\S+) (\S+)/.exec(line);
      if (!m) continue;
      exported.add(m[1]);
      if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m[1] + s);
    }
    const used = new Set(exprs.flatMap((e) => e.match(/switchyard_[a-z0-9_]+/g) ?? []));
    assert.ok(used.size >= 15, `the dashboard covers the gateway's metrics (${used.size})`);
    const missing = [...used].filter((name) => !exported.has(name));
    assert.deepEqual(missing, [], 'metrics the dashboard queries but the gateway does not export');
    // Panels the issue asks for.
    for (const title of ['Spend per team', 'Savings per team', 'Traffic split by tier', 'DLP findings', 'Blocked requests',
      'Request latency percentiles', 'Time to first token', 'Errors', 'Budget burn']) {
      assert.ok(dashboard.panels.some((p) => p.title.startsWith(title)), `a panel "${title}"`);
    }
  });

  test('a real Prometheus scraping the admin port answers cost per team correctly', TIMEOUT, async () => {
    const prometheus = await startPrometheus(makeTempDir('sy-prom-'), `127.0.0.1:${gateway.adminPort}`);
    const want = Object.fromEntries(Object.entries(expected).map(([team, perBackend]) =>
      [team, Object.entries(perBackend).reduce((sum, [backend, usage]) => sum + usd(PRICES[backend], usage), 0)]));
    let got = {};
    await waitFor(async () => {
      const result = await prometheus.query('sum by (team) (switchyard_cost_usd_total)');
      got = Object.fromEntries(result.map((r) => [r.metric.team, Number(r.value[1])]));
      if (Object.keys(want).every((team) => team in got)) return true;
      const targets = await request({ port: prometheus.port, path: '/api/v1/targets' });
      const health = targets.json?.data?.activeTargets?.map((t) => `${t.health} ${t.lastError}`).join('; ');
      throw new Error(`want ${JSON.stringify(want)}, got ${JSON.stringify(got)}; targets: ${health}`);
    }, { timeoutMs: 30_000, intervalMs: 250, what: 'prometheus to have scraped the cost series' });
    for (const [team, cost] of Object.entries(want)) close(got[team], cost, `prometheus cost for ${team}`);
    const up = await prometheus.query('up{job="switchyard"}');
    assert.equal(up[0].value[1], '1');
    const split = await prometheus.query('sum by (tier) (switchyard_requests_total{code="200"})');
    assert.deepEqual(Object.fromEntries(split.map((r) => [r.metric.tier, Number(r.value[1])])), { local: 5, frontier: 2 });
  });
});
