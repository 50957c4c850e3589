// `kind: azure-openai` backends: the official openai client against the gateway, whose backends
// are Azure OpenAI deployments served by switchyard-mock (deployment URLs, api-version, api-key).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import { policy, startGateway, startMock, stopAll } from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const KEY = 'az-e2e-secret';

function azureBackend(name, mock, extra = {}) {
  return {
    name,
    kind: 'azure-openai',
    url: mock.url,
    deployment: 'gpt-4o-prod',
    api_version: '2024-10-21',
    model: 'gpt-4o',
    api_key_env: 'AZURE_OPENAI_KEY',
    ...extra,
  };
}

describe('azure-openai backends', { timeout: 300_000 }, () => {
  let gateway;
  let client;
  const mocks = {};

  before(async () => {
    [mocks.east, mocks.west, mocks.limited] = await Promise.all([
      startMock('azure-east', ['--require-key', KEY]),
      startMock('azure-west', ['--require-key', KEY]),
      startMock('azure-limited', ['--require-key', KEY]),
    ]);
    gateway = await startGateway(policy({
      backends: [
        azureBackend('azure-east', mocks.east),
        azureBackend('azure-embed', mocks.east, { deployment: 'embed-prod', model: 'text-embedding-3-small' }),
        azureBackend('azure-west', mocks.west),
        azureBackend('azure-limited', mocks.limited),
      ],
      tiers: {
        frontier: { backends: ['azure-east'] },
        spread: { backends: ['azure-limited', 'azure-west'] },
      },
      models: {
        'text-embedding-3-small': { backend: 'azure-embed' },
        limited: { backend: 'azure-limited' },
      },
    }), { env: { AZURE_OPENAI_KEY: KEY } });
    client = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: 'sk-e2e-anything',
      maxRetries: 0,
      timeout: 30_000,
    });
  });

  after(stopAll);

  test('a completion reaches the deployment with api-version and api-key, and no model in the body', TIMEOUT, async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'frontier', messages: [{ role: 'user', content: 'Hi Azure mock:reply_tokens=3' }] })
      .withResponse();
    assert.equal(response.headers.get('x-switchyard-route'), 'tier=frontier; backend=azure-east; model=gpt-4o; rule=default');
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, 'azure-east-model', 'the model the deployment runs, as Azure reports it');
    assert.equal(data.choices[0].message.content, 'Hello from azure-east.');
    assert.equal(data.prompt_filter_results[0].content_filter_results.hate.severity, 'safe');
    assert.ok(data.usage.total_tokens > 0);
    const sent = await mocks.east.lastRequest();
    assert.equal(sent.model, undefined);
    assert.deepEqual(sent.messages, [{ role: 'user', content: 'Hi Azure mock:reply_tokens=3' }]);
    const headers = await mocks.east.lastRequestHeaders();
    assert.equal(headers['api-key'], KEY);
    assert.equal(headers.authorization, undefined, 'the key never goes in Authorization');
  });

  test('a stream relays the prompt filter results and the usage the client asked for', TIMEOUT, async () => {
    const stream = await client.chat.completions.create({
      model: 'frontier',
      messages: [{ role: 'user', content: 'Stream mock:reply_tokens=4' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }
    assert.deepEqual(chunks[0].choices, []);
    assert.equal(chunks[0].prompt_filter_results[0].prompt_index, 0);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'Hello from azure-east. lorem');
    assert.equal(chunks.at(-1).usage.completion_tokens, 4);
    const sent = await mocks.east.lastRequest();
    assert.equal(sent.stream, true);
    assert.equal(sent.stream_options.include_usage, true);
  });

  test('embeddings go to the embeddings deployment', TIMEOUT, async () => {
    const { data, response } = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: ['one', 'two'] })
      .withResponse();
    assert.match(response.headers.get('x-switchyard-route'), /backend=azure-embed; model=text-embedding-3-small/);
    assert.equal(data.data.length, 2);
    assert.equal(data.data[0].embedding.length, 16);
    assert.equal(data.model, 'azure-east-model');
    assert.equal((await mocks.east.lastRequest()).model, undefined);
  });

  test('a content-filter refusal is a clear 400 that never echoes the prompt', TIMEOUT, async () => {
    const prompt = 'my secret plan mock:content_filter';
    const err = await client.chat.completions
      .create({ model: 'frontier', messages: [{ role: 'user', content: prompt }] })
      .then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'content_filter');
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.param, 'prompt');
    assert.match(err.error.message, /^The upstream provider's content filter \(Azure OpenAI\) refused the prompt \(filtered: hate\)/);
    assert.equal(JSON.stringify(err.error).includes('secret plan'), false);
    assert.equal(err.error.innererror.content_filter_result.hate.filtered, true);
  });

  test('a refused streamed request gets the same 400 before any event', TIMEOUT, async () => {
    const err = await client.chat.completions
      .create({ model: 'frontier', messages: [{ role: 'user', content: 'mock:content_filter' }], stream: true })
      .then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.code, 'content_filter');
    assert.equal(err.param, 'prompt');
  });

  test('a 429 from the only deployment reaches the client with retry-after, in OpenAI shape', TIMEOUT, async () => {
    await mocks.limited.configure({ error_status: 429 });
    const err = await client.chat.completions
      .create({ model: 'limited', messages: [{ role: 'user', content: 'hi' }] })
      .then(() => null, (e) => e);
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.headers['retry-after'], '1');
    assert.equal(err.code, '429');
    assert.equal(err.type, 'rate_limit_error');
    assert.match(err.error.message, /^Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21/);
  });

  test('a 429 is retryable: another deployment of the tier answers', TIMEOUT, async () => {
    await mocks.limited.configure({ error_status: 429 });
    // The previous test's 429 (retry-after: 1) keeps the deployment out of selection for a
    // second: past that, it is picked again, answers 429, and the other deployment serves.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = (await mocks.limited.stats()).requests;
    for (let i = 0; i < 4; ++i) {
      const { data, response } = await client.chat.completions
        .create({ model: 'spread', messages: [{ role: 'user', content: `try ${i}` }] })
        .withResponse();
      assert.match(response.headers.get('x-switchyard-route'), /backend=azure-west/);
      assert.equal(data.model, 'azure-west-model');
    }
    assert.ok((await mocks.limited.stats()).requests > before, 'the rate-limited deployment was tried');
  });
});
