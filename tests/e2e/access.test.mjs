// Keys, scopes, rate limits and budgets end to end, on one gateway with the embedded (SQLite)
// store: keys minted with `switchyard keys new`, every kind of refused key, scopes, 429s with
// Retry-After, streamed spend charged, a budget that survives a restart, and models filtered per
// key. The many-replica (Redis) case is in scaleout.test.mjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import {
  SWITCHYARD_BIN,
  backendFor,
  chatBody,
  curlRequest,
  errorOf,
  makeTempDir,
  metricValue,
  policy,
  post,
  request,
  runCli,
  scrapeMetrics,
  startGateway,
  startMock,
  stopAll,
  writeConfig,
  mintKey,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };

function chat(gateway, key, body, headers = {}) {
  return post(gateway, '/v1/chat/completions', body, {
    headers: key ? { authorization: `Bearer ${key}`, ...headers } : headers,
  });
}

describe('keys and scopes', { timeout: 120_000 }, () => {
  let gateway;
  let local;
  let cloud;
  const keys = {};

  before(async () => {
    [local, cloud] = await Promise.all([startMock('local'), startMock('cloud')]);
    for (const [id, team] of [['full', 'eng'], ['local-only', 'eng'], ['expired', ''], ['off', ''], ['modest', '']]) {
      keys[id] = mintKey(id, team || undefined);
    }
    const config = policy({
      backends: [
        backendFor('llama-local', local, { model: 'llama-3' }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external' }),
      ],
      tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
      models: { 'gpt-4o': { backend: 'cloud' }, llama: { tier: 'local' } },
      teams: { eng: { allow: { endpoints: ['chat', 'models'] } } },
      keys: [
        { id: 'full', hash: keys.full.hash, team: 'eng' },
        { id: 'local-only', hash: keys['local-only'].hash, team: 'eng', allow: { tiers: ['local'], models: ['auto', 'local', 'llama'], max_tokens: 100 } },
        { id: 'expired', hash: keys.expired.hash, expires: '2020-01-31' },
        { id: 'off', hash: keys.off.hash, disabled: true },
        { id: 'modest', hash: keys.modest.hash, allow: { max_external_sensitivity: 'internal' } },
      ],
    });
    gateway = await startGateway(config);
  });

  after(stopAll);

  test('a valid key works as a bearer token, as x-api-key and through the openai client', TIMEOUT, async () => {
    assert.equal((await chat(gateway, keys.full.key, chatBody('auto'))).status, 200);
    const viaHeader = await post(gateway, '/v1/chat/completions', chatBody('auto'), { headers: { 'x-api-key': keys.full.key } });
    assert.equal(viaHeader.status, 200, viaHeader.body);
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: keys.full.key, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(completion.object, 'chat.completion');
    const headers = await cloud.lastRequestHeaders();
    assert.ok(!JSON.stringify(headers).includes(keys.full.key), 'the client key never reaches the upstream');
  });

  test('missing, unknown, wrong, expired and disabled keys get 401 without echoing what was sent', TIMEOUT, async () => {
    const missing = await chat(gateway, null, chatBody('auto'));
    assert.equal(missing.status, 401);
    assert.equal(errorOf(missing.json).code, 'missing_api_key');
    assert.equal(missing.headers['www-authenticate'], 'Bearer');

    const unknown = mintKey('nobody');
    const tampered = keys.full.key.slice(0, -8) + (keys.full.key.at(-8) === 'A' ? 'B' : 'A') + keys.full.key.slice(-7);
    for (const key of [unknown.key, tampered, 'sk-some-openai-key']) {
      const res = await chat(gateway, key, chatBody('auto'));
      assert.equal(res.status, 401, key);
      assert.equal(errorOf(res.json).code, 'invalid_api_key');
      assert.equal(errorOf(res.json).message, 'Invalid API key.');
      assert.equal(errorOf(res.json).type, 'authentication_error');
      assert.ok(!res.body.includes(key.slice(4, 20)));
    }
    const expired = await chat(gateway, keys.expired.key, chatBody('auto'));
    assert.equal(expired.status, 401);
    assert.equal(errorOf(expired.json).message, "API key 'expired' expired at 2020-02-01T00:00:00Z.");
    const off = await chat(gateway, keys.off.key, chatBody('auto'));
    assert.equal(off.status, 401);
    assert.equal(errorOf(off.json).message, "API key 'off' is disabled.");
  });

  test('scopes: tier, model, endpoint and max_tokens refusals name the scope (403)', TIMEOUT, async () => {
    const tier = await chat(gateway, keys['local-only'].key, chatBody('frontier'));
    assert.equal(tier.status, 403, tier.body);
    assert.equal(errorOf(tier.json).code, 'policy_violation');
    assert.match(errorOf(tier.json).message, /Key 'local-only' may not use model 'frontier'|may not use tier 'frontier'/);
    const alias = await chat(gateway, keys['local-only'].key, chatBody('gpt-4o'));
    assert.equal(alias.status, 403);
    const tokens = await chat(gateway, keys['local-only'].key, chatBody('llama', 'hi', { max_tokens: 500 }));
    assert.equal(tokens.status, 403);
    assert.match(errorOf(tokens.json).message, /max_tokens/);
    assert.equal((await chat(gateway, keys['local-only'].key, chatBody('llama', 'hi', { max_tokens: 50 }))).status, 200);
    const embeddings = await post(gateway, '/v1/embeddings', { model: 'auto', input: 'x' }, { headers: { authorization: `Bearer ${keys.full.key}` } });
    assert.equal(embeddings.status, 403, 'team eng may use chat and models only');
    assert.match(errorOf(embeddings.json).message, /embeddings/);
  });

  test('GET /v1/models lists only what the key may use', TIMEOUT, async () => {
    const list = async (key) => {
      const res = await request({ port: gateway.port, path: '/v1/models', headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200, res.body);
      return JSON.parse(res.body).data.map((m) => m.id).sort();
    };
    assert.deepEqual(await list(keys.full.key), ['auto', 'frontier', 'gpt-4o', 'llama', 'local']);
    assert.deepEqual(await list(keys['local-only'].key), ['auto', 'llama', 'local']);
  });

  test('a key limited to internal data cannot send an e-mail address to an external backend', TIMEOUT, async () => {
    const res = await chat(gateway, keys.modest.key, chatBody('frontier', 'mail jane.doe@example.com'));
    assert.equal(res.status, 403, res.body);
    assert.match(errorOf(res.json).message, /Key 'modest' may not send confidential data to external backends/);
    assert.equal((await chat(gateway, keys.modest.key, chatBody('local', 'mail jane.doe@example.com'))).status, 200);
  });
});

describe('rate limits and budgets (embedded store)', { timeout: 120_000 }, () => {
  let gateway;
  let mock;
  let dir;
  let config;
  const keys = {};

  before(async () => {
    mock = await startMock('priced');
    keys.rpm = mintKey('rpm-key');
    keys.budget = mintKey('budget-key', 'fin');
    dir = makeTempDir();
    config = policy({
      // Priced so one request costs cents: 1000 USD per million tokens either way.
      backends: [backendFor('priced', mock, { model: 'm', cost: { input_per_mtok: 1000, output_per_mtok: 1000 } })],
      tiers: { local: { backends: ['priced'] } },
      teams: { fin: { limits: { budget_usd: { day: 0.2 } } } },
      keys: [
        { id: 'rpm-key', hash: keys.rpm.hash, limits: { rpm: 3 } },
        { id: 'budget-key', hash: keys.budget.hash, team: 'fin' },
      ],
    });
    config.limits = { default_max_tokens: 50 };
    config.state = { store: 'sqlite', sqlite: { path: path.join(dir, 'state.db') } };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  test('requests per minute: the 4th request gets 429 with Retry-After and an OpenAI error', TIMEOUT, async () => {
    const statuses = [];
    let refused;
    for (let i = 0; i < 4; i++) {
      const res = await chat(gateway, keys.rpm.key, chatBody('auto', 'hi mock:reply_tokens=1'));
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(errorOf(refused.json).code, 'rate_limit_exceeded');
    assert.equal(errorOf(refused.json).type, 'rate_limit_error');
    assert.match(errorOf(refused.json).message, /Rate limit reached for key 'rpm-key': requests per minute/);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    const metrics = await scrapeMetrics(gateway);
    assert.equal(metricValue(metrics, 'switchyard_limit_rejections_total', { limit: 'rpm' }), 1);
  });

  test('streamed spend is charged and a spent team budget refuses the next request, also after a restart', TIMEOUT, async () => {
    // Each request: ~40 prompt tokens (estimate) + 50 reserved output = ~0.09 USD worst case; a
    // stream of 20 tokens settles at well under that. The team budget is 0.20 USD a day.
    let admitted = 0;
    let refused;
    for (let i = 0; i < 10 && !refused; i++) {
      const res = await curlRequest(`${gateway.url}/v1/chat/completions`, {
        headers: { authorization: `Bearer ${keys.budget.key}` },
        body: chatBody('auto', 'stream please', { stream: true }),
        extra: ['-N'],
      });
      if (res.status === 200) {
        admitted += 1;
        assert.match(res.body, /data: \[DONE\]/);
        assert.ok(!/"choices":\[\]/.test(res.body), 'the usage chunk the gateway asked for is not relayed');
      } else {
        refused = res;
      }
    }
    assert.ok(refused, 'the budget eventually refuses');
    assert.ok(admitted >= 2 && admitted < 10, `admitted ${admitted}`);
    assert.equal(refused.status, 429);
    assert.equal(errorOf(refused.json).code, 'budget_exceeded');
    assert.match(errorOf(refused.json).message, /Budget exhausted for team 'fin': daily budget/);
    const upstream = await mock.lastRequest();
    assert.equal(upstream.stream_options.include_usage, true);

    // Restart on the same database: the spend is still there.
    await gateway.stop();
    gateway = await startGateway({ file: writeConfig(dir, config) }, { dir });
    const again = await chat(gateway, keys.budget.key, chatBody('auto', 'one more'));
    assert.equal(again.status, 429, again.body);
    assert.equal(errorOf(again.json).code, 'budget_exceeded');
  });
});

describe('a spent budget downgrades to the local tier when the policy says so', { timeout: 120_000 }, () => {
  let gateway;
  let key;

  before(async () => {
    const [local, cloud] = await Promise.all([startMock('cheap'), startMock('dear')]);
    key = mintKey('downgrader', 'ops');
    const dir = makeTempDir();
    const config = policy({
      backends: [
        backendFor('cheap', local, { model: 'llama-3' }),
        backendFor('dear', cloud, { model: 'gpt-4o', location: 'external', cost: { input_per_mtok: 1000, output_per_mtok: 1000 } }),
      ],
      tiers: { local: { backends: ['cheap'] }, frontier: { backends: ['dear'] } },
      teams: { ops: { limits: { budget_usd: { day: 0.1 } } } },
      keys: [{ id: 'downgrader', hash: key.hash, team: 'ops' }],
    });
    config.limits = { default_max_tokens: 50, on_budget_exhausted: 'downgrade', downgrade_tier: 'local' };
    config.state = { store: 'sqlite', sqlite: { path: path.join(dir, 'state.db') } };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  test('frontier requests move to the local tier once the frontier budget is spent', TIMEOUT, async () => {
    const routes = [];
    // Each frontier request reserves ~0.07 USD (less once its output is lowered to what is left,
    // down to limits.min_output_tokens: ~0.04) and settles at ~0.012: the seventh no longer fits.
    for (let i = 0; i < 9; i++) {
      const res = await chat(gateway, key.key, chatBody('frontier', 'hello mock:reply_tokens=2'));
      assert.equal(res.status, 200, res.body);
      routes.push(res.headers['x-switchyard-route'].split(';')[0]);
    }
    assert.equal(routes[0], 'tier=frontier');
    assert.equal(routes.at(-1), 'tier=local', routes.join(', '));
  });
});

describe('a budget reserves the worst case of the fallback tiers a request may reach', { timeout: 120_000 }, () => {
  let gateway;
  let config;
  let cheap;
  const keys = {};

  before(async () => {
    let dear;
    [cheap, dear] = await Promise.all([startMock('cheap'), startMock('dear')]);
    keys.both = mintKey('both-tiers');
    keys.local = mintKey('local-tier-only');
    const dir = makeTempDir();
    // A request reserves ~(15 prompt + 50 output) tokens: ~0.00007 USD at the cheap tier's
    // prices, ~0.065 USD at the fallback tier's, which is more than the 0.05 USD budget.
    const budget = { budget_usd: { day: 0.05 } };
    config = policy({
      backends: [
        backendFor('cheap', cheap, { model: 'small', cost: { input_per_mtok: 1, output_per_mtok: 1 } }),
        backendFor('dear', dear, { model: 'large', cost: { input_per_mtok: 1000, output_per_mtok: 1000 } }),
      ],
      tiers: { local: { backends: ['cheap'] }, big: { backends: ['dear'] } },
      keys: [
        { id: 'both-tiers', hash: keys.both.hash, limits: budget },
        { id: 'local-tier-only', hash: keys.local.hash, allow: { tiers: ['local'] }, limits: budget },
      ],
    });
    config.routing = [{ name: 'local-then-big', route: 'local', fallback: ['big'] }];
    // min_output_tokens at the cap: the output is never lowered to fit (output_bound.test.mjs
    // covers that), so the worst case either fits whole or the request is refused.
    config.limits = { default_max_tokens: 50, min_output_tokens: 50 };
    config.state = { store: 'sqlite', sqlite: { path: path.join(dir, 'state.db') } };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  test('a request whose fallback tier does not fit the budget is refused before anything is sent', TIMEOUT, async () => {
    const before = (await cheap.stats()).requests;
    const res = await chat(gateway, keys.both.key, chatBody('auto', 'hi'));
    assert.equal(res.status, 429, res.body);
    assert.equal(errorOf(res.json).code, 'budget_exceeded');
    assert.equal((await cheap.stats()).requests, before, 'not even the cheap tier was tried');
  });

  test('a fallback tier the key may not reach does not count', TIMEOUT, async () => {
    const res = await chat(gateway, keys.local.key, chatBody('auto', 'hi'));
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['x-switchyard-route'], /^tier=local; backend=cheap;/);
  });

  test('with on_budget_exhausted: downgrade, the request is served by the downgrade tier alone', TIMEOUT, async () => {
    config.limits = { ...config.limits, on_budget_exhausted: 'downgrade', downgrade_tier: 'local' };
    writeConfig(gateway.dir, config);
    gateway.signal('SIGHUP');
    await gateway.waitForLog((l) => l.msg === 'config reloaded', 'the reload');
    const res = await chat(gateway, keys.both.key, chatBody('auto', 'hi'));
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['x-switchyard-route'], /^tier=local; backend=cheap;/);
  });
});

describe('a client that disconnects mid-stream is charged for what was generated', { timeout: 120_000 }, () => {
  let gateway;
  let key;

  before(async () => {
    const mock = await startMock('streamer');
    key = mintKey('quitter');
    const dir = makeTempDir();
    const config = policy({
      backends: [backendFor('priced', mock, { model: 'm', cost: { input_per_mtok: 1000, output_per_mtok: 1000 } })],
      tiers: { local: { backends: ['priced'] } },
      // One request reserves ~(20 + 2000) tokens x 1000 USD/Mtok = ~2.02 USD: the budget of 2.10
      // admits the next request only if the aborted stream was charged (almost) nothing.
      // concurrency: 1 tells "settled" from "still reserved": an unsettled stream would hold the
      // only slot (429 rate_limit_exceeded), a settled one frees it (then the budget decides).
      keys: [{ id: 'quitter', hash: key.hash, limits: { concurrency: 1, budget_usd: { day: 2.1 } } }],
    });
    // Never lowered to fit: the next request's whole worst case fits or is refused.
    config.limits = { default_max_tokens: 2000, min_output_tokens: 2000 };
    config.state = { store: 'sqlite', sqlite: { path: path.join(dir, 'state.db') } };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  test('the aborted stream is settled with its relayed events, so the budget refuses the next request', TIMEOUT, async () => {
    const controller = new AbortController();
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { model: 'auto', stream: true, messages: [{ role: 'user', content: 'long mock:reply_tokens=2000 mock:tokens_per_sec=400' }] },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) chunks += 1;
        if (chunks === 150) controller.abort();
      }
    } catch {
      // the abort
    }
    assert.ok(chunks >= 150, `received ${chunks} chunks`);
    // The gateway notices the disconnect on its next write (the mock sends every 2.5 ms) and then
    // settles. Until it has, the only concurrency slot is taken (a refusal that changes no
    // counter), so ask again until the slot is free: then the budget decides. Uncharged, the
    // next request would fit the budget.
    let next;
    for (let i = 0; i < 100; i++) {
      next = await chat(gateway, key.key, chatBody('auto', 'again mock:reply_tokens=1'));
      if (!(next.status === 429 && /concurrent requests/.test(errorOf(next.json).message))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(next.status, 429, 'the partial stream was charged');
    assert.equal(errorOf(next.json).code, 'budget_exceeded');
  });
});

describe('admin keys and explain with a key', { timeout: 120_000 }, () => {
  let gateway;
  let user;
  let admin;

  before(async () => {
    const mock = await startMock('plain');
    user = mintKey('floored');
    const adminOut = runCli(['keys', 'new', '--id', 'ops', '--admin']);
    assert.equal(adminOut.code, 0, adminOut.stderr);
    admin = { key: /^\s*(syk_\S+)$/m.exec(adminOut.stdout)[1], hash: /hash: "([^"]+)"/.exec(adminOut.stdout)[1] };
    const config = policy({
      backends: [backendFor('llama-local', mock, { model: 'llama-3' })],
      tiers: { local: { backends: ['llama-local'] }, other: { backends: ['llama-local'] } },
      auth: { admin_keys: [{ id: 'ops', hash: admin.hash }] },
      keys: [{ id: 'floored', hash: user.hash, sensitivity_floor: 'confidential', allow: { tiers: ['local'] } }],
    });
    gateway = await startGateway(config);
  });

  after(stopAll);

  test('POST /admin/explain needs an admin key; a data-plane key is not one', TIMEOUT, async () => {
    const body = JSON.stringify(chatBody('local'));
    const ask = (headers) => request({ port: gateway.adminPort, method: 'POST', path: '/admin/explain', headers, body });
    assert.equal((await ask({})).status, 401);
    assert.equal((await ask({ authorization: `Bearer ${user.key}` })).status, 401);
    const ok = await ask({ authorization: `Bearer ${admin.key}` });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).tier, 'local');
    assert.equal((await request({ port: gateway.adminPort, path: '/metrics' })).status, 200, 'metrics stay open');
  });

  test('explain --key-id applies that key: its sensitivity floor and its scopes', TIMEOUT, async () => {
    const explain = (model) => {
      const out = spawnSync(SWITCHYARD_BIN, ['explain', '--config', gateway.configFile, '--key-id', 'floored'], {
        input: JSON.stringify(chatBody(model, 'hello')),
        encoding: 'utf8',
      });
      return { code: out.status, json: JSON.parse(out.stdout) };
    };
    const allowed = explain('local');
    assert.equal(allowed.code, 0);
    assert.equal(allowed.json.key, 'floored');
    assert.equal(allowed.json.sensitivity, 'confidential', 'the floor applies with no finding');
    const outside = explain('other');
    assert.equal(outside.json.action, 'block');
    assert.match(outside.json.reasons.join(' '), /may not use tier 'other'/);
    const unknown = runCli(['explain', '--config', gateway.configFile, '--key-id', 'nobody']);
    assert.equal(unknown.code, 2);
  });
});
