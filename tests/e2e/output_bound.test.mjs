// Keys and budgets bound the output, not only the input: the gateway tells the upstream the cap a
// key or budget implies (also when the client names no max_tokens, on OpenAI and Anthropic
// backends), ends a stream whose upstream overruns it (finish_reason "length" / stop_reason
// "max_tokens"), refuses a request whose worst case does not fit the budget before sending it,
// and a key's spend never passes its budget (measured over many requests against a mock told to
// produce far more than the cap). A stream the client abandons is counted, tokens and cost, in
// the access log, the audit record and the metrics, for a key without limits too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import {
  backendFor,
  chatBody,
  errorOf,
  makeTempDir,
  metricSum,
  mintKey,
  policy,
  post,
  scrapeMetrics,
  sseData,
  startGateway,
  startMock,
  stopAll,
  waitFor,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 90_000 };

function chat(gateway, key, body, headers = {}) {
  return post(gateway, '/v1/chat/completions', body, {
    headers: { authorization: `Bearer ${key}`, ...headers },
  });
}

// The chat.completion.chunk payloads of an SSE body, and how many carried content.
function chunksOf(text) {
  const chunks = sseData(text).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
  const content = chunks.filter((c) => c.choices?.[0]?.delta?.content).length;
  return { chunks, content };
}

const accessLines = (gateway, keyId) =>
  gateway.logLines().filter((l) => l.msg === 'request' && l.key_id === keyId);

describe('a key capped at 256 output tokens', { timeout: 180_000 }, () => {
  let gateway;
  let openaiMock;
  let anthropicMock;
  let key;

  before(async () => {
    [openaiMock, anthropicMock] = await Promise.all([startMock('vllm'), startMock('claude')]);
    key = mintKey('capped');
    gateway = await startGateway(policy({
      backends: [
        backendFor('vllm', openaiMock, { model: 'llama' }),
        backendFor('claude', anthropicMock, { kind: 'anthropic', model: 'claude-x' }),
      ],
      tiers: { local: { backends: ['vllm'] }, claude: { backends: ['claude'] } },
      keys: [{ id: 'capped', hash: key.hash, allow: { max_tokens: 256 } }],
    }));
  });

  after(stopAll);

  test('a request without max_tokens is sent with max_tokens 256 and gets at most 256 tokens', TIMEOUT, async () => {
    const res = await chat(gateway, key.key, chatBody('local', 'long please mock:reply_tokens=3000'));
    assert.equal(res.status, 200, res.body);
    assert.equal((await openaiMock.lastRequest()).max_tokens, 256);
    assert.equal(res.json.usage.completion_tokens, 256);
    assert.equal(res.json.choices[0].finish_reason, 'length');
  });

  test('the Anthropic backend gets the key\'s cap instead of its own default of 4096', TIMEOUT, async () => {
    const res = await chat(gateway, key.key, chatBody('claude', 'long please mock:reply_tokens=3000'));
    assert.equal(res.status, 200, res.body);
    assert.equal((await anthropicMock.lastRequest()).max_tokens, 256);
    assert.equal(res.json.usage.completion_tokens, 256);
  });

  test('a stream whose upstream ignores the cap is cut at it, with finish_reason length', TIMEOUT, async () => {
    const res = await chat(gateway, key.key,
      chatBody('local', 'long mock:reply_tokens=3000 mock:ignore_max_tokens=1', { stream: true }));
    assert.equal(res.status, 200, res.body);
    const { chunks, content } = chunksOf(res.body);
    assert.equal(content, 256);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
    assert.equal(chunks.at(-1).id, chunks[0].id);
    assert.match(res.body, /data: \[DONE\]\n\n$/);
    const line = await waitFor(() => accessLines(gateway, 'capped').at(-1)?.stream === true && accessLines(gateway, 'capped').at(-1),
      { what: 'the access log line' });
    assert.equal(line.tokens_out, 256);
  });

  test('a cut stream still ends with a usage chunk when the client asked for usage', TIMEOUT, async () => {
    const res = await chat(gateway, key.key,
      chatBody('local', 'long mock:reply_tokens=3000 mock:ignore_max_tokens=1',
        { stream: true, stream_options: { include_usage: true } }));
    assert.equal(res.status, 200, res.body);
    const { chunks } = chunksOf(res.body);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.completion_tokens, 256);
    assert.ok(last.usage.prompt_tokens > 0);
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'length');
    assert.match(res.body, /data: \[DONE\]\n\n$/);
  });

  test('an Anthropic client\'s stream is cut at its max_tokens with stop_reason max_tokens', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/messages', {
      model: 'local', max_tokens: 100, stream: true,
      messages: [{ role: 'user', content: 'long mock:reply_tokens=3000 mock:ignore_max_tokens=1' }],
    }, { headers: { 'x-api-key': key.key, 'anthropic-version': '2023-06-01' } });
    assert.equal(res.status, 200, res.body);
    const events = sseData(res.body).map((d) => JSON.parse(d));
    assert.equal(events.filter((e) => e.type === 'content_block_delta').length, 100);
    assert.equal(events.find((e) => e.type === 'message_delta').delta.stop_reason, 'max_tokens');
    assert.equal(events.at(-1).type, 'message_stop');
  });

  test('embeddings get no output cap', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/embeddings', { model: 'local', input: 'hello' },
      { headers: { authorization: `Bearer ${key.key}` } });
    assert.equal(res.status, 200, res.body);
    const upstream = await openaiMock.lastRequest();
    assert.equal(upstream.input, 'hello');
    assert.ok(!('max_tokens' in upstream) && !('max_completion_tokens' in upstream));
  });

  test('max_tokens over the key\'s cap is still a 403', TIMEOUT, async () => {
    const res = await chat(gateway, key.key, chatBody('local', 'hi', { max_tokens: 257 }));
    assert.equal(res.status, 403, res.body);
  });
});

describe('a budget bounds the output: zero overshoot over many requests', { timeout: 300_000 }, () => {
  let gateway;
  let mock;
  let key;
  const BUDGET = 1.05;  // not a multiple of a request's cost: the last admitted one is lowered

  before(async () => {
    mock = await startMock('priced');
    key = mintKey('budgeted');
    const dir = makeTempDir();
    const config = policy({
      // 1000 USD per million tokens either way: a token costs 0.001 USD.
      backends: [backendFor('priced', mock, { model: 'm', cost: { input_per_mtok: 1000, output_per_mtok: 1000 } })],
      tiers: { local: { backends: ['priced'] } },
      keys: [{ id: 'budgeted', hash: key.hash, limits: { budget_usd: { day: BUDGET } } }],
    });
    config.limits = { default_max_tokens: 100 };
    config.state = { store: 'sqlite', sqlite: { path: path.join(dir, 'state.db') } };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  test('a mock producing 3000 tokens per answer never takes the key past its budget', TIMEOUT, async (t) => {
    // Each request reserves ~(25 prompt + 100 output) tokens = ~0.125 USD. Unbounded, the first
    // answer alone (3000 tokens) would cost 3 USD, three times the budget.
    const N = 16;
    const statuses = [];
    let refused;
    for (let i = 0; i < N; i++) {
      const stream = i % 2 === 0;
      // Streams: the mock ignores the cap it is sent (the gateway cuts). Whole answers: it honours it.
      const text = `request ${i} mock:reply_tokens=3000${stream ? ' mock:ignore_max_tokens=1' : ''}`;
      const res = await chat(gateway, key.key, chatBody('auto', text, { stream }));
      statuses.push(res.status);
      if (res.status === 200) {
        if (stream) {
          const { chunks, content } = chunksOf(res.body);
          assert.ok(content <= 100, `${content} content chunks`);
          assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
        } else {
          assert.ok(res.json.usage.completion_tokens <= 100);
        }
      } else {
        refused = res;
      }
    }
    assert.ok(statuses.filter((s) => s === 200).length >= 4, statuses.join(','));
    assert.ok(refused, `the budget refuses eventually: ${statuses.join(',')}`);
    assert.equal(refused.status, 429);
    assert.equal(errorOf(refused.json).code, 'budget_exceeded');
    assert.match(errorOf(refused.json).message,
      /Budget exhausted for key 'budgeted': daily budget \(this request reserves up to [0-9.]+ USD: about \d+ prompt tokens and at most 100 output tokens, and does not fit even lowered to 16 output tokens\)\. Retry after \d+ s\./);
    assert.ok(Number(refused.headers['retry-after']) >= 1);

    const lines = await waitFor(() => {
      const l = accessLines(gateway, 'budgeted');
      return l.length === N && l;
    }, { what: 'every access log line' });
    const spent = lines.reduce((sum, l) => sum + (l.cost_usd ?? 0), 0);
    t.diagnostic(`${N} requests, ${statuses.filter((s) => s === 200).length} admitted, spent ${spent.toFixed(6)} of ${BUDGET} USD`);
    assert.ok(spent <= BUDGET + 1e-9, `spent ${spent} USD of a ${BUDGET} USD budget`);
    assert.ok(spent >= BUDGET - 0.2, `spent only ${spent} USD: the budget was not used up`);
    assert.ok(lines.every((l) => l.status !== 200 || l.tokens_out <= 100), 'no answer passed the cap');
    const metrics = await scrapeMetrics(gateway);
    const cost = metricSum(metrics, 'switchyard_cost_usd_total', {});
    assert.ok(cost > 0 && cost <= BUDGET + 1e-9, `metrics: ${cost} USD`);
    // The last admitted requests were lowered to what the budget still paid for, not refused.
    const caps = (await mock.requests()).map((r) => r.body?.max_tokens).filter((m) => m !== undefined);
    assert.ok(caps.every((m) => m >= 16 && m <= 100), caps.join(','));
    assert.ok(caps.some((m) => m < 100), `no request was lowered: ${caps.join(',')}`);
    t.diagnostic(`max_tokens sent upstream: ${caps.join(',')}`);
  });
});

describe('a stream the client abandons is counted', { timeout: 180_000 }, () => {
  let gateway;
  let key;
  let auditPath;

  before(async () => {
    const mock = await startMock('streamer');
    key = mintKey('free-key', 'research');
    const dir = makeTempDir();
    auditPath = path.join(dir, 'audit.jsonl');
    const config = policy({
      backends: [backendFor('priced', mock, { model: 'm', cost: { input_per_mtok: 1, output_per_mtok: 2 } })],
      tiers: { local: { backends: ['priced'] } },
      keys: [{ id: 'free-key', hash: key.hash, team: 'research' }],  // no limits at all
    });
    config.audit = { path: auditPath, durability: 'batch' };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  test('tokens and cost of what was relayed reach the access log, the audit record and the metrics', TIMEOUT, async () => {
    const controller = new AbortController();
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { model: 'auto', stream: true, messages: [{ role: 'user', content: 'long mock:reply_tokens=2000 mock:tokens_per_sec=200' }] },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) chunks += 1;
        if (chunks === 13) controller.abort();
      }
    } catch {
      // the abort
    }
    assert.ok(chunks >= 13, `received ${chunks} chunks`);
    const line = await waitFor(() => accessLines(gateway, 'free-key').at(-1), { what: 'the access log line', timeoutMs: 20_000 });
    assert.equal(line.status, 200);
    assert.equal(line.stream, true);
    assert.ok(line.tokens_out >= 13 && line.tokens_out < 2000, `tokens_out ${line.tokens_out}`);
    assert.ok(line.tokens_in > 0, `tokens_in ${line.tokens_in}`);
    assert.ok(line.cost_usd > 0, `cost_usd ${line.cost_usd}`);
    assert.equal(line.usage_estimated, true);

    const metrics = await scrapeMetrics(gateway);
    assert.ok(metricSum(metrics, 'switchyard_tokens_total', { direction: 'output' }) >= 13);
    assert.ok(metricSum(metrics, 'switchyard_cost_usd_total', { team: 'research' }) > 0);

    await gateway.stop();  // drains the audit writer
    const records = fs.readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const done = records.filter((r) => r.phase === 'completion').at(-1);
    assert.equal(done.tokens.completion, line.tokens_out);
    assert.ok(done.tokens.prompt > 0);
    assert.ok(done.cost_usd > 0);
  });
});
