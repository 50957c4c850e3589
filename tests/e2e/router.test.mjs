// The router end to end, with several mocks: routine prompts stay on the self-hosted tier, complex
// ones go to the frontier (pseudonymized when they carry PII), restricted data stays home even
// when the client names a frontier model and even when every self-hosted backend is down, a
// block rule answers 403 naming itself, a tier fails over on 500s and dropped connections, the
// breaker takes a failing backend out and lets it back in when it recovers, and a prompt larger
// than a backend's context window is a clear 400. A tier of one backend retries it on 5xx and 429,
// and a reload applies new breaker settings to the running breakers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  backendFor,
  chatBody,
  errorOf,
  metricValue,
  policy,
  post,
  request,
  runCli,
  scrapeMetrics,
  sleep,
  startGateway,
  startMock,
  stopAll,
  waitFor,
  writeConfig,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
// Hand-written prompts (not dataset items) on either side of the classifier's threshold.
const ROUTINE = 'Rewrite this sentence in a friendlier tone: please send the report.';
const COMPLEX = 'A train leaves at 3pm going 60 mph and another leaves at 4pm going 80 mph from the '
  + 'same station. If the track is 500 miles long, at what time does the second train catch up '
  + 'with the first, and how far from the station? Show each step of your reasoning.';
const EMAIL = 'dana.whitfield@example.org';
const CARD = ['4111', '1111', '1111', '1111'].join(' ');

const route = (res) => Object.fromEntries(res.headers['x-switchyard-route'].split('; ').map((kv) => kv.split('=')));

describe('router', { timeout: 240_000 }, () => {
  let gateway;
  let localA;
  let localB;
  let cloud;
  let secret;
  let routerPolicy;

  before(async () => {
    [localA, localB, cloud] = await Promise.all([startMock('local-a'), startMock('local-b'), startMock('cloud')]);
    const minted = runCli(['keys', 'new', '--id', 'leaked']);
    assert.equal(minted.code, 0, minted.stderr);
    secret = /^\s*(syk_\S+)$/m.exec(minted.stdout)[1];
    const config = policy({
      backends: [
        backendFor('local-a', localA, { model: 'llama-a', health_check: { interval: '1s', timeout: '500ms' } }),
        backendFor('local-b', localB, { model: 'llama-b', health_check: { interval: '1s', timeout: '500ms' } }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external', cost: { input_per_mtok: 2.5, output_per_mtok: 10 } }),
        backendFor('tiny', localA, { model: 'tiny-model', context_window: 64 }),
        backendFor('plain', localB, { model: 'plain-model', capabilities: [] }),
      ],
      tiers: {
        local: { backends: ['local-a', 'local-b'] },
        frontier: { backends: ['cloud'] },
        small: { backends: ['tiny'] },
        textonly: { backends: ['plain'] },
      },
    });
    config.resilience = { retries: { max_attempts: 3, backoff: '5ms' }, breaker: { failures: 3, open_for: '1s', max_open_for: '2s' } };
    config.routing = [
      { name: 'secrets-never-leave', when: { detectors: ['secrets'] }, action: 'block', message: 'Secrets stay in the building.' },
      { name: 'restricted-stays-home', when: { sensitivity: '>= restricted' }, route: 'local' },
      { name: 'hard-with-pii-goes-out-pseudonymized', when: { difficulty: 'complex', sensitivity: 'confidential', models: ['auto'] }, route: 'frontier', transform: 'pseudonymize' },
      { name: 'legal-goes-out', when: { domain: ['legal', 'medical'], models: ['auto'] }, route: 'frontier' },
      { name: 'hard-goes-out', when: { difficulty: 'complex', models: ['auto'] }, route: 'frontier' },
      { name: 'routine-stays-local', when: { models: ['auto'] }, route: 'local' },
    ];
    routerPolicy = config;
    gateway = await startGateway(config);
  });

  after(stopAll);

  const send = (model, text, extra = {}) => post(gateway, '/v1/chat/completions', chatBody(model, text, extra));

  test('a routine prompt for model auto stays on the self-hosted tier', TIMEOUT, async () => {
    const res = await send('auto', ROUTINE);
    assert.equal(res.status, 200, res.body);
    const r = route(res);
    assert.equal(r.tier, 'local');
    assert.ok(['local-a', 'local-b'].includes(r.backend));
    assert.equal(r.rule, 'routine-stays-local');
    assert.equal(r.overridden, undefined);
  });

  test('a complex prompt goes to the frontier, and explain gives the same decision with its difficulty', TIMEOUT, async () => {
    const res = await send('auto', COMPLEX);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(route(res), { tier: 'frontier', backend: 'cloud', model: 'gpt-4o', rule: 'hard-goes-out' });
    const explained = runCli(['explain', '--config', gateway.configFile], { input: JSON.stringify(chatBody('auto', COMPLEX)) });
    assert.equal(explained.code, 0, explained.stderr);
    const decision = JSON.parse(explained.stdout);
    assert.equal(decision.rule, 'hard-goes-out');
    assert.equal(decision.tier, 'frontier');
    assert.equal(decision.difficulty.label, 'complex');
    assert.ok(decision.difficulty.score >= decision.difficulty.threshold);
    const routine = JSON.parse(runCli(['explain', '--config', gateway.configFile], { input: JSON.stringify(chatBody('auto', ROUTINE)) }).stdout);
    assert.equal(routine.difficulty.label, 'routine');
    assert.ok(routine.difficulty.score < decision.difficulty.score);
  });

  test('a rule on the domain routes a legal question, and explain shows the domain', TIMEOUT, async () => {
    const LEGAL = 'Is a landlord liable under the lease if the tenant is injured, and can the tenant sue for negligence in court?';
    const res = await send('auto', LEGAL);
    assert.equal(res.status, 200, res.body);
    assert.equal(route(res).rule, 'legal-goes-out');
    assert.equal(route(res).tier, 'frontier');
    const legal = JSON.parse(runCli(['explain', '--config', gateway.configFile], { input: JSON.stringify(chatBody('auto', LEGAL)) }).stdout);
    assert.equal(legal.rule, 'legal-goes-out');
    assert.equal(legal.difficulty.domain, 'legal');
    const math = JSON.parse(runCli(['explain', '--config', gateway.configFile], { input: JSON.stringify(chatBody('auto', COMPLEX)) }).stdout);
    assert.equal(math.difficulty.domain, 'math');
  });

  test('a tool-result turn is judged on the user question, so it stays on the first turn\'s tier', TIMEOUT, async () => {
    const question = { role: 'user', content: 'Weather in Paris?' };
    const first = await post(gateway, '/v1/chat/completions', { model: 'auto', messages: [question] });
    assert.equal(first.status, 200, first.body);
    const toolOutput = JSON.stringify({ city: 'Paris', forecast: Array.from({ length: 40 }, (_, i) => ({ hour: i, temp_c: 12 + (i % 7), wind_kmh: 3 * i, pressure_hpa: 1013 - i, humidity: 0.5 + i / 100 })) });
    const followUp = await post(gateway, '/v1/chat/completions', {
      model: 'auto',
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      messages: [question,
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: toolOutput }],
    });
    assert.equal(followUp.status, 200, followUp.body);
    assert.equal(route(followUp).rule, route(first).rule);
    assert.equal(route(followUp).tier, route(first).tier);
  });

  test('a conversation keeps the tier it started on: a hard later turn stays local and the response says so; explain shows both judgments', TIMEOUT, async () => {
    const opening = { role: 'user', content: ROUTINE };
    const later = [opening, { role: 'assistant', content: 'Could you please send the report?' }, { role: 'user', content: COMPLEX }];
    const res = await post(gateway, '/v1/chat/completions', { model: 'auto', messages: later });
    assert.equal(res.status, 200, res.body);
    assert.equal(route(res).rule, 'routine-stays-local');
    assert.equal(route(res).tier, 'local');
    assert.equal(route(res).difficulty, 'first-turn', 'the header says the first turn decided');
    const explained = runCli(['explain', '--config', gateway.configFile], { input: JSON.stringify({ model: 'auto', messages: later }) });
    assert.equal(explained.code, 0, explained.stderr);
    const decision = JSON.parse(explained.stdout);
    assert.equal(decision.difficulty.basis, 'first_turn');
    assert.equal(decision.difficulty.label, 'routine');
    assert.equal(decision.difficulty.latest_turn.label, 'complex');
    // Sensitivity still moves the conversation inward (never out): a card in a later turn of a
    // conversation that opened hard keeps it home.
    const hard = [{ role: 'user', content: COMPLEX }, { role: 'assistant', content: 'At 7pm.' }, { role: 'user', content: `Thanks. Charge card ${CARD}.` }];
    const inward = await post(gateway, '/v1/chat/completions', { model: 'auto', messages: hard });
    assert.equal(inward.status, 200, inward.body);
    assert.equal(route(inward).rule, 'restricted-stays-home');
    // A single-turn request has no `latest_turn` and no header mark.
    const single = await send('auto', COMPLEX);
    assert.equal(route(single).difficulty, undefined);
  });

  test('difficulty.conversation: latest_turn judges each turn on its own last user message', TIMEOUT, async () => {
    const config = JSON.parse(JSON.stringify(routerPolicy));
    config.difficulty = { conversation: 'latest_turn' };
    const other = await startGateway(config);
    const later = [{ role: 'user', content: ROUTINE }, { role: 'assistant', content: 'Sure.' }, { role: 'user', content: COMPLEX }];
    const res = await post(other, '/v1/chat/completions', { model: 'auto', messages: later });
    assert.equal(res.status, 200, res.body);
    assert.equal(route(res).rule, 'hard-goes-out');
    assert.equal(route(res).difficulty, undefined);
  });

  test('complex with PII goes to the frontier pseudonymized, and the answer restores the value', TIMEOUT, async () => {
    const res = await send('auto', `${COMPLEX} Send the result to ${EMAIL}.`);
    assert.equal(res.status, 200, res.body);
    assert.equal(route(res).rule, 'hard-with-pii-goes-out-pseudonymized');
    assert.equal(route(res).backend, 'cloud');
    const upstream = JSON.stringify(await cloud.lastRequest());
    assert.ok(!upstream.includes(EMAIL), 'the frontier never saw the address');
  });

  test('restricted data stays on the self-hosted tier even when the client names the frontier, and the response says so', TIMEOUT, async () => {
    const before = (await cloud.stats()).requests;
    const res = await send('frontier', `${COMPLEX} Charge card ${CARD}.`);
    assert.equal(res.status, 200, res.body);
    const r = route(res);
    assert.equal(r.tier, 'local');
    assert.equal(r.rule, 'restricted-stays-home');
    assert.equal(r.overridden, 'true');
    assert.equal((await cloud.stats()).requests, before, 'nothing reached the frontier');
  });

  test('a block rule answers 403 policy_violation naming the rule, never the secret', TIMEOUT, async () => {
    const res = await send('auto', `use this key: ${secret}`);
    const error = errorOf(res.json);
    assert.equal(res.status, 403);
    assert.equal(error.code, 'policy_violation');
    assert.match(error.message, /routing rule 'secrets-never-leave': Secrets stay in the building\./);
    assert.ok(!res.body.includes(secret));
    await waitFor(async () => metricValue(await scrapeMetrics(gateway), 'switchyard_blocks_total', { reason: 'routing_rule' }) === 1,
      { what: 'the block counted' });
  });

  test('a prompt larger than every context window of the tier is a 400 context_length_exceeded', TIMEOUT, async () => {
    const res = await send('small', 'x '.repeat(400));
    assert.equal(res.status, 400);
    assert.equal(errorOf(res.json).code, 'context_length_exceeded');
    assert.match(errorOf(res.json).message, /largest context window: 64 tokens/);
    assert.equal((await send('small', 'hi')).status, 200, 'a short prompt fits');
  });

  test('a request using tools skips backends without the capability: 400 unsupported_capability when none has it', TIMEOUT, async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    const res = await send('textonly', ROUTINE, { tools });
    assert.equal(res.status, 400, res.body);
    assert.equal(errorOf(res.json).code, 'unsupported_capability');
    assert.match(errorOf(res.json).message, /supports tools/);
    assert.equal((await send('textonly', ROUTINE)).status, 200, 'without tools it is served');
    assert.equal((await send('local', ROUTINE, { tools })).status, 200, 'backends declare every capability by default');
  });

  test('active health checks take an unhealthy backend out of its tier and bring it back', TIMEOUT, async () => {
    await localB.configure({ health_status: 503 });
    await waitFor(async () => metricValue(await scrapeMetrics(gateway), 'switchyard_backend_healthy', { backend: 'local-b' }) === 0,
      { timeoutMs: 15_000, what: 'local-b marked unhealthy by its health checks' });
    const before = (await localB.stats()).requests;
    for (let i = 0; i < 10; i++) assert.equal(route(await send('local', ROUTINE)).backend, 'local-a');
    assert.equal((await localB.stats()).requests, before, 'an unhealthy backend gets no traffic');
    await localB.configure({ health_status: 200 });
    await waitFor(async () => metricValue(await scrapeMetrics(gateway), 'switchyard_backend_healthy', { backend: 'local-b' }) === 1,
      { timeoutMs: 15_000, what: 'local-b healthy again' });
  });

  test('a tier fails over when a backend answers 500 or drops the connection', TIMEOUT, async () => {
    for (const [controls, reason] of [[{ error_status: 500 }, 'status'], [{ disconnect_after: 0 }, 'reset']]) {
      const retries = async () => metricValue(await scrapeMetrics(gateway), 'switchyard_upstream_retries_total', { backend: 'local-a', reason });
      const retriesBefore = await retries();
      const triedBefore = (await localA.stats()).requests;
      await localA.configure(controls);
      for (let i = 0; i < 6; i++) {
        const res = await send('local', `${ROUTINE} ${i}`);
        assert.equal(res.status, 200, `${JSON.stringify(controls)}: ${res.body}`);
        assert.equal(route(res).backend, 'local-b');
      }
      // Every try of local-a failed and was retried on local-b (a reset pooled connection is
      // resent once, so local-a may see a try twice).
      const tried = (await localA.stats()).requests - triedBefore;
      const retried = await retries() - retriesBefore;
      assert.ok(tried > 0 ? retried >= 1 && retried <= tried : retried === 0, `${reason}: ${retried} retries, ${tried} tries of local-a`);
      await localA.configure({ reset: true });
      await sleep(2_100);  // the breaker's longest open time: local-a may serve again
    }
  });

  test('the breaker opens on a failing backend, stops sending it traffic, and closes when it recovers', TIMEOUT, async () => {
    const transitions = async () => {
      const text = await scrapeMetrics(gateway);
      return Object.fromEntries(['open', 'half_open', 'closed'].map((to) =>
        [to, metricValue(text, 'switchyard_backend_breaker_transitions_total', { backend: 'local-a', to })]));
    };
    const before = await transitions();
    await localA.configure({ error_status: 503 });
    await waitFor(async () => {
      await send('local', ROUTINE);
      return metricValue(await scrapeMetrics(gateway), 'switchyard_backend_breaker_state', { backend: 'local-a' }) === 1;
    }, { what: 'the breaker of local-a to open' });
    const during = (await localA.stats()).requests;
    for (let i = 0; i < 5; i++) assert.equal(route(await send('local', ROUTINE)).backend, 'local-b');
    assert.equal((await localA.stats()).requests, during, 'an open breaker sends nothing to local-a');
    await localA.configure({ reset: true });
    await waitFor(async () => {
      await send('local', ROUTINE);
      return metricValue(await scrapeMetrics(gateway), 'switchyard_backend_breaker_state', { backend: 'local-a' }) === 0;
    }, { timeoutMs: 15_000, what: 'the breaker of local-a to close again' });
    // Open, half-open (its probe), closed: each move counted.
    const after = await transitions();
    for (const to of ['open', 'half_open', 'closed']) assert.ok(after[to] >= before[to] + 1, `to ${to}: ${JSON.stringify({ before, after })}`);
    let servedByA = 0;
    for (let i = 0; i < 20; i++) servedByA += route(await send('local', ROUTINE)).backend === 'local-a' ? 1 : 0;
    assert.ok(servedByA > 0, 'local-a serves again');
  });

  test('routing decisions are counted by sensitivity, difficulty, tier and rule', TIMEOUT, async () => {
    const text = await scrapeMetrics(gateway);
    assert.ok(metricValue(text, 'switchyard_routing_decisions_total',
      { sensitivity: 'public', difficulty: 'complex', tier: 'frontier', rule: 'hard-goes-out' }) >= 1);
    assert.ok(metricValue(text, 'switchyard_routing_decisions_total',
      { sensitivity: 'restricted', difficulty: 'complex', tier: 'local', rule: 'restricted-stays-home' }) >= 1);
  });

  test('restricted data is never sent to the frontier when every self-hosted backend is down', TIMEOUT, async () => {
    const before = (await cloud.stats()).requests;
    await Promise.all([localA.stop(), localB.stop()]);
    const res = await send('auto', `${COMPLEX} Card ${CARD}.`);
    assert.equal(res.status, 503, res.body);
    assert.equal(errorOf(res.json).code, 'no_backend_available');
    assert.ok(!res.body.includes('1111'));
    const admin = await request({ port: gateway.adminPort, path: '/healthz' });
    assert.equal(admin.status, 200, 'the gateway is still up');
    assert.equal((await cloud.stats()).requests, before, 'nothing reached the frontier');
  });
});

describe('retries on a tier of one backend, and breaker settings on reload', { timeout: 120_000 }, () => {
  let gateway;
  let solo;
  let config;
  let version = 1;

  before(async () => {
    solo = await startMock('solo');
    config = policy({
      backends: [backendFor('solo', solo, { model: 'solo-model' })],
      tiers: { only: { backends: ['solo'] } },
    });
    config.resilience = { retries: { max_attempts: 2, backoff: '5ms' }, breaker: { failures: 100 } };
    gateway = await startGateway(config);
  });

  after(stopAll);

  const send = (text) => post(gateway, '/v1/chat/completions', chatBody('only', text));
  const requestsTo = async (fn) => {
    const before = (await solo.stats()).requests;
    const res = await fn();
    return { res, requests: (await solo.stats()).requests - before };
  };
  const reload = async () => {
    version += 1;
    writeConfig(gateway.dir, config);
    gateway.signal('SIGHUP');
    await gateway.waitForLog((l) => l.msg === 'config reloaded' && l.version === String(version), `reload ${version}`);
  };

  test('the only backend of a tier is tried again after a 500, 503 or 429, and the client gets its answer', TIMEOUT, async () => {
    for (const status of [500, 503, 429]) {
      await solo.configure({ error_status: status, error_count: 1 });
      const { res, requests } = await requestsTo(() => send(`retry after ${status}`));
      assert.equal(res.status, 200, `${status}: ${res.body}`);
      assert.equal(route(res).backend, 'solo');
      assert.equal(requests, 2, `${status}: the failed try and the retry`);
    }
  });

  test('with max_attempts: 1 the client gets the upstream error as it came', TIMEOUT, async () => {
    config.resilience.retries.max_attempts = 1;
    await reload();
    await solo.configure({ error_status: 503, error_count: 1 });
    const { res, requests } = await requestsTo(() => send('no retry'));
    assert.equal(res.status, 503, res.body);
    assert.equal(errorOf(res.json).type, 'server_error');
    assert.equal(requests, 1);
    assert.equal((await send('the next one')).status, 200);
  });

  test('a reload applies new breaker settings to the running breaker without resetting its count', TIMEOUT, async () => {
    const breaker = async () => metricValue(await scrapeMetrics(gateway), 'switchyard_backend_breaker_state', { backend: 'solo' });
    await solo.configure({ error_status: 500 });
    for (let i = 0; i < 2; i++) assert.equal((await send(`fail ${i}`)).status, 500);
    config.resilience.breaker = { failures: 3, open_for: '30s' };
    await reload();
    assert.equal(await breaker(), 0, 'closed after two failures');
    assert.equal((await send('the third failure in a row')).status, 500);
    // The outcome reaches the breaker just after the answer reached the client.
    await waitFor(async () => (await breaker()) === 1,
      { timeoutMs: 5_000, what: 'the third failure in a row to open it under the new setting' });
    await solo.configure({ reset: true });
  });
});
