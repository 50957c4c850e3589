// Chat completions, embeddings and the model list, through curl and the official openai client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import {
  REQUEST_ID_RE,
  backendFor,
  chatBody,
  curl,
  curlRequest,
  policy,
  sseData,
  startGateway,
  startMock,
  stopAll,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };

describe('chat completions, embeddings and models', { timeout: 300_000 }, () => {
  let gateway;
  let client;
  const mocks = {};
  // model asked for -> [mock that must answer, backend name, upstream model id, tier label]
  const routes = {
    auto: ['alpha', 'local-a', 'llama-3.1-8b', 'local'],
    local: ['alpha', 'local-a', 'llama-3.1-8b', 'local'],
    frontier: ['gamma', 'frontier', 'gpt-4o-2024-08-06', 'frontier'],
    'gpt-4o': ['gamma', 'frontier', 'gpt-4o-2024-08-06', '-'],
    fast: ['alpha', 'local-a', 'llama-3.1-8b', 'local'],
    qwen: ['beta', 'local-b', 'qwen-2.5-7b', '-'],
  };

  before(async () => {
    [mocks.alpha, mocks.beta, mocks.gamma] = await Promise.all([
      startMock('alpha'),
      startMock('beta'),
      startMock('gamma'),
    ]);
    gateway = await startGateway(policy({
      backends: [
        backendFor('local-a', mocks.alpha, { model: 'llama-3.1-8b' }),
        backendFor('local-b', mocks.beta, { model: 'qwen-2.5-7b' }),
        backendFor('frontier', mocks.gamma, { model: 'gpt-4o-2024-08-06', location: 'external' }),
      ],
      tiers: { local: { backends: ['local-a'] }, frontier: { backends: ['frontier'] } },
      models: { 'gpt-4o': { backend: 'frontier' }, fast: { tier: 'local' }, qwen: { backend: 'local-b' } },
    }));
    client = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: 'sk-e2e-anything',
      maxRetries: 0,
      timeout: 30_000,
    });
  });

  after(stopAll);

  test('a non-streamed completion through curl for model auto is answered by the first tier', TIMEOUT, async () => {
    const res = await curlRequest(`${gateway.url}/v1/chat/completions`, {
      body: chatBody('auto', 'Hi there'),
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['x-switchyard-route'], 'tier=local; backend=local-a; model=llama-3.1-8b; rule=default');
    assert.match(res.headers['x-request-id'], REQUEST_ID_RE);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(res.json.object, 'chat.completion');
    assert.equal(res.json.model, 'llama-3.1-8b');
    assert.equal(res.json.choices.length, 1);
    assert.equal(res.json.choices[0].message.role, 'assistant');
    assert.match(res.json.choices[0].message.content, /^Hello from alpha\./);
    assert.equal(res.json.choices[0].finish_reason, 'stop');
    assert.ok(res.json.usage.total_tokens > 0);
  });

  test('every model name (auto, tier names, aliases) is answered by its backend with the upstream model id', TIMEOUT, async () => {
    for (const [model, [mockName, backend, upstreamModel, tier]] of Object.entries(routes)) {
      const { data, response } = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: `route check for ${model}` }] })
        .withResponse();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-switchyard-route'),
        `tier=${tier}; backend=${backend}; model=${upstreamModel}; rule=default`, `route of ${model}`);
      assert.match(response.headers.get('x-request-id'), REQUEST_ID_RE);
      assert.match(data.choices[0].message.content, new RegExp(`^Hello from ${mockName}\\.`), `answer for ${model}`);
      const upstream = await mocks[mockName].lastRequest();
      assert.equal(upstream.model, upstreamModel, `upstream model for ${model}`);
      assert.equal(upstream.messages[0].content, `route check for ${model}`);
    }
  });

  test('the rest of the request body reaches the upstream unchanged', TIMEOUT, async () => {
    const body = {
      model: 'qwen',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Unicode: naïve café — 日本語 😀' }] },
      ],
      temperature: 0.25,
      top_p: 0.9,
      max_tokens: 5,
      user: 'e2e-user',
      metadata: { nested: { list: [1, 2, 3], flag: true, nothing: null } },
    };
    const res = await curlRequest(`${gateway.url}/v1/chat/completions`, { body });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.choices[0].finish_reason, 'length');
    assert.equal(res.json.usage.completion_tokens, 5);
    const upstream = await mocks.beta.lastRequest();
    assert.deepEqual(upstream, { ...body, model: 'qwen-2.5-7b' });
  });

  test('a streamed completion through the openai client assembles the same text as the non-streamed one', TIMEOUT, async () => {
    const messages = [{ role: 'user', content: 'Tell me something. mock:reply_tokens=15' }];
    const full = await client.chat.completions.create({ model: 'auto', messages });
    const expected = full.choices[0].message.content;
    assert.match(expected, /^Hello from alpha\./);

    const { data: stream, response } = await client.chat.completions
      .create({ model: 'auto', messages, stream: true })
      .withResponse();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(response.headers.get('x-switchyard-route'), 'tier=local; backend=local-a; model=llama-3.1-8b; rule=default');
    assert.match(response.headers.get('x-request-id'), REQUEST_ID_RE);
    let text = '';
    let chunks = 0;
    let finish = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, 'llama-3.1-8b');
      for (const choice of chunk.choices) {
        text += choice.delta?.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      chunks += 1;
    }
    assert.equal(text, expected);
    assert.equal(finish, 'stop');
    assert.ok(chunks >= 15, `expected at least 15 chunks, got ${chunks}`);
    const upstream = await mocks.alpha.lastRequest();
    assert.equal(upstream.stream, true);
    assert.equal(upstream.model, 'llama-3.1-8b');
  });

  test('stream_options.include_usage delivers a final usage chunk', TIMEOUT, async () => {
    const stream = await client.chat.completions.create({
      model: 'frontier',
      messages: [{ role: 'user', content: 'Count. mock:reply_tokens=7' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.completion_tokens, 7);
    assert.ok(last.usage.prompt_tokens > 0);
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + 7);
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage ?? null, null);
    assert.deepEqual((await mocks.gamma.lastRequest()).stream_options, { include_usage: true });
  });

  test('streamed chunks reach the client as the upstream produces them, not buffered', TIMEOUT, async () => {
    const stream = await client.chat.completions.create({
      model: 'auto',
      messages: [{ role: 'user', content: 'Slowly please. mock:tokens_per_sec=10 mock:reply_tokens=12' }],
      stream: true,
    });
    const arrivals = [];
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) arrivals.push(Date.now());
    }
    assert.equal(arrivals.length, 12);
    const first = arrivals[0];
    const last = arrivals.at(-1);
    assert.ok(first < last - 500,
      `first content chunk at +0 ms, last at +${last - first} ms: the stream was buffered`);
  });

  test('curl receives the raw SSE stream with the route header and a final [DONE]', TIMEOUT, async () => {
    const res = await curl(['-sS', '-N', '-i', '-H', 'Content-Type: application/json',
      '--data-binary', JSON.stringify(chatBody('gpt-4o', 'stream it mock:reply_tokens=4', { stream: true })),
      `${gateway.url}/v1/chat/completions`]);
    assert.equal(res.code, 0, res.stderr);
    const [head, body] = res.stdout.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /\r\nx-switchyard-route: tier=-; backend=frontier; model=gpt-4o-2024-08-06; rule=default\r\n/i);
    assert.match(head, /\r\ncontent-type: text\/event-stream/i);
    const events = sseData(body);
    assert.equal(events.at(-1), '[DONE]');
    const text = events.slice(0, -1).map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'Hello from gamma. lorem');
  });

  test('streams ask the upstream for usage, and the client gets the usage chunk only if it asked', TIMEOUT, async () => {
    const res = await curlRequest(`${gateway.url}/v1/chat/completions`, {
      body: chatBody('gpt-4o', 'count me mock:reply_tokens=3', { stream: true }),
      extra: ['-N'],
    });
    assert.equal(res.status, 200, res.body);
    const upstream = await mocks.gamma.lastRequest();
    assert.equal(upstream.stream_options?.include_usage, true, 'the gateway asks for usage');
    const chunks = sseData(res.body).slice(0, -1).map((e) => JSON.parse(e));
    assert.ok(chunks.every((c) => c.choices.length > 0), 'no usage-only chunk the client did not ask for');
  });

  test('a long stream arrives intact and in order', TIMEOUT, async () => {
    const messages = [{ role: 'user', content: 'Long one. mock:reply_tokens=4000' }];
    const full = await client.chat.completions.create({ model: 'auto', messages });
    const stream = await client.chat.completions.create({ model: 'auto', messages, stream: true });
    let text = '';
    let count = 0;
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta?.content;
      if (piece) {
        text += piece;
        count += 1;
      }
    }
    assert.equal(count, 4000);
    assert.equal(text.length, full.choices[0].message.content.length);
    assert.equal(text, full.choices[0].message.content);
  });

  test('concurrent streams each get their own complete answer', TIMEOUT, async () => {
    const models = ['auto', 'frontier', 'qwen', 'gpt-4o'];
    const jobs = Array.from({ length: 16 }, (_, i) => (async () => {
      const model = models[i % models.length];
      const tokens = 20 + i * 7;
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: `job ${i} mock:reply_tokens=${tokens} mock:tokens_per_sec=400` }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        usage = chunk.usage ?? usage;
      }
      return { model, tokens, text, usage };
    })());
    for (const { model, tokens, text, usage } of await Promise.all(jobs)) {
      const [mockName] = routes[model];
      assert.match(text, new RegExp(`^Hello from ${mockName}\\.`), `${model}: ${text.slice(0, 40)}`);
      assert.equal(usage.completion_tokens, tokens);
      assert.equal(text.split(' ').length, tokens, `${model}: ${tokens} tokens`);
    }
  });

  test('a large request body reaches the upstream byte for byte', TIMEOUT, async () => {
    const big = Array.from({ length: 40_000 }, (_, i) => `word${i}`).join(' ');
    const body = chatBody('qwen', big, { max_tokens: 3 });
    const res = await curlRequest(`${gateway.url}/v1/chat/completions`, { body });
    assert.equal(res.status, 200, res.body);
    const upstream = await mocks.beta.lastRequest();
    assert.equal(upstream.messages[0].content, big);
    assert.ok(res.json.usage.prompt_tokens > 10_000);
  });

  test('embeddings come back as floats and as base64 through the openai client', TIMEOUT, async () => {
    const input = ['first text', 'second text'];
    const { data: floats, response } = await client.embeddings
      .create({ model: 'auto', input, encoding_format: 'float' })
      .withResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-switchyard-route'), 'tier=local; backend=local-a; model=llama-3.1-8b; rule=default');
    assert.equal(floats.object, 'list');
    assert.equal(floats.data.length, 2);
    assert.deepEqual(floats.data.map((d) => d.index), [0, 1]);
    for (const item of floats.data) {
      assert.ok(Array.isArray(item.embedding) && item.embedding.length > 0);
      const norm = Math.sqrt(item.embedding.reduce((s, x) => s + x * x, 0));
      assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
    }
    assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);
    let upstream = await mocks.alpha.lastRequest();
    assert.equal(upstream.model, 'llama-3.1-8b');
    assert.deepEqual(upstream.input, input);
    assert.equal(upstream.encoding_format, 'float');

    const b64 = await client.embeddings.create({ model: 'auto', input, encoding_format: 'base64' });
    assert.equal(b64.data.length, 2);
    for (let i = 0; i < 2; i++) {
      const encoded = b64.data[i].embedding;
      assert.equal(typeof encoded, 'string');
      const bytes = Buffer.from(encoded, 'base64');
      const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
      assert.equal(decoded.length, floats.data[i].embedding.length);
      decoded.forEach((x, j) => assert.ok(Math.abs(x - floats.data[i].embedding[j]) < 1e-6));
    }
    upstream = await mocks.alpha.lastRequest();
    assert.equal(upstream.encoding_format, 'base64');

    // The client's default asks for base64 and decodes it itself.
    const defaulted = await client.embeddings.create({ model: 'qwen', input: 'first text' });
    assert.equal(defaulted.data[0].embedding.length, floats.data[0].embedding.length);
    assert.equal((await mocks.beta.lastRequest()).model, 'qwen-2.5-7b');
  });

  test('the model list names auto, every tier and every alias', TIMEOUT, async () => {
    const { data: page, response } = await client.models.list().withResponse();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('x-request-id'), REQUEST_ID_RE);
    const ids = page.data.map((m) => m.id);
    assert.deepEqual([...ids].sort(), Object.keys(routes).sort());
    assert.equal(ids[0], 'auto');
    for (const m of page.data) assert.equal(m.object, 'model');

    const res = await curlRequest(`${gateway.url}/v1/models`);
    assert.equal(res.status, 200);
    assert.equal(res.json.object, 'list');
    assert.deepEqual(res.json.data.map((m) => m.id), ids);
  });
});
