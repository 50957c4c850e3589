// Anthropic clients through the gateway, unmodified: the official @anthropic-ai/sdk (messages,
// streams, tools, count_tokens, models) and Claude Code (`claude -p` completing a turn that uses a
// tool), against an OpenAI-compatible backend and against an Anthropic backend; and the openai
// client against the Anthropic backend (tool calls, streamed and not). The mocks' request logs
// prove what left the gateway.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { runClaude } from './lib/claude.mjs';
import {
  backendFor, makeTempDir, metricSum, policy, scrapeMetrics, startGateway, startMock, stopAll,
  mintKey, waitFor,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const UPSTREAM_KEY = 'upstream-anthropic-key';
const PRICES = { input_per_mtok: 1000, output_per_mtok: 0, cached_input_per_mtok: 100 };
const READ_TOOL = {
  name: 'read_file',
  description: 'Reads a file',
  input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

// A gateway whose `claude-*` and `gpt-*` names go to `target` ('local': an OpenAI-compatible
// mock; 'frontier': an Anthropic mock that checks the upstream key).
async function startSetup(target) {
  const local = await startMock('local', ['--reply-tokens', '5']);
  const anthropic = await startMock('anth', ['--reply-tokens', '5', '--require-key', UPSTREAM_KEY]);
  const client = mintKey('dev');
  const config = policy({
    // Priced so cache reads show in the cost: 1000 USD per million input tokens, 100 cached.
    backends: [
      backendFor('llama-local', local, { model: 'llama-3', cost: PRICES }),
      { ...backendFor('claude', anthropic, { model: 'claude-sonnet-4-5', location: 'external', cost: PRICES }),
        kind: 'anthropic', api_key_env: 'SY_TEST_ANTHROPIC_KEY' },
    ],
    tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['claude'] } },
    models: { 'claude-*': { tier: target }, 'gpt-*': { tier: target } },
    keys: [{ id: 'dev', hash: client.hash }],
  });
  const gateway = await startGateway(config, { env: { SY_TEST_ANTHROPIC_KEY: UPSTREAM_KEY } });
  return { gateway, local, anthropic, key: client.key, upstream: target === 'local' ? local : anthropic };
}

for (const target of ['local', 'frontier']) {
  const kind = target === 'local' ? 'an OpenAI-compatible' : 'an Anthropic';
  describe(`Anthropic clients through the gateway to ${kind} backend`, { timeout: 300_000 }, () => {
    let setup;
    let sdk;

    before(async () => {
      setup = await startSetup(target);
      sdk = new Anthropic({ apiKey: setup.key, baseURL: setup.gateway.url, maxRetries: 0, timeout: 20_000 });
    });
    after(stopAll);

    test('the SDK gets a message with text, stop reason and usage', TIMEOUT, async () => {
      const { data: message, response } = await sdk.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Hi' }],
      }).withResponse();
      assert.equal(message.type, 'message');
      assert.equal(message.model, 'claude-sonnet-4-5');
      assert.deepEqual(message.content, [{ type: 'text', text: `Hello from ${setup.upstream.name}. lorem ipsum` }]);
      assert.equal(message.stop_reason, 'end_turn');
      assert.equal(message.usage.output_tokens, 5);
      assert.ok(message.usage.input_tokens > 0);
      assert.match(response.headers.get('x-switchyard-route'), new RegExp(`tier=${target};`));
      // The gateway's request id, where the SDK reads it (and error reports quote it).
      assert.equal(message._request_id, response.headers.get('x-request-id'));
      assert.ok(message._request_id);
      const sent = await setup.upstream.lastRequest();
      if (target === 'local') {
        assert.deepEqual(sent.messages[0], { role: 'system', content: 'Be brief.' });
        assert.equal(sent.model, 'llama-3');
      } else {
        assert.equal(sent.system, 'Be brief.');
        assert.equal(sent.model, 'claude-sonnet-4-5');
        assert.equal((await setup.anthropic.lastRequestHeaders())['x-api-key'], UPSTREAM_KEY);
      }
    });

    test('the SDK stream helper assembles the streamed text', TIMEOUT, async () => {
      const stream = sdk.messages.stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Hi mock:reply_tokens=7' }],
      });
      const pieces = [];
      stream.on('text', (t) => pieces.push(t));
      const message = await stream.finalMessage();
      assert.ok(pieces.length >= 2, `streamed in ${pieces.length} pieces`);
      assert.equal(pieces.join(''), `Hello from ${setup.upstream.name}. lorem ipsum dolor sit`);
      assert.deepEqual(message.content, [{ type: 'text', text: pieces.join('') }]);
      assert.equal(message.stop_reason, 'end_turn');
      assert.equal(message.usage.output_tokens, 7);
    });

    test('the SDK gets tool_use blocks, streamed and not, and a tool result ends the loop', TIMEOUT, async () => {
      const ask = { role: 'user', content: 'Read it mock:tool_calls=1' };
      const first = await sdk.messages.create({
        model: 'claude-sonnet-4-5', max_tokens: 100, tools: [READ_TOOL], messages: [ask],
      });
      assert.equal(first.stop_reason, 'tool_use');
      const use = first.content.find((b) => b.type === 'tool_use');
      assert.ok(use, JSON.stringify(first.content));
      assert.equal(use.name, 'read_file');
      assert.deepEqual(use.input, { path: 'mock' });

      const streamed = await sdk.messages.stream({
        model: 'claude-sonnet-4-5', max_tokens: 100, tools: [READ_TOOL], messages: [ask],
      }).finalMessage();
      assert.equal(streamed.stop_reason, 'tool_use');
      assert.deepEqual(streamed.content.find((b) => b.type === 'tool_use').input, { path: 'mock' });

      const second = await sdk.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        tools: [READ_TOOL],
        messages: [ask, { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'file text 4711' }] }],
      });
      assert.equal(second.stop_reason, 'end_turn');
      assert.equal(second.content[0].type, 'text');
      const sent = JSON.stringify(await setup.upstream.lastRequest());
      assert.match(sent, /file text 4711/, 'the tool result reached the backend');
      assert.match(sent, target === 'local' ? /"role":"tool"/ : /"type":"tool_result"/);
    });

    test('count_tokens and the models list answer without calling the backend', TIMEOUT, async () => {
      const before = (await setup.upstream.stats()).requests;
      const count = await sdk.messages.countTokens({
        model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'How many tokens is this?' }],
      });
      assert.ok(count.input_tokens > 0);
      const ids = [];
      for await (const model of sdk.models.list()) ids.push(model.id);
      assert.ok(ids.includes('auto') && ids.includes('local'), ids.join(','));
      const one = await sdk.models.retrieve('claude-opus-4-1');
      assert.equal(one.id, 'claude-opus-4-1');
      assert.equal((await setup.upstream.stats()).requests, before);
    });

    test('prompt cache reads reach the client\'s usage and metrics and are billed at the cached price', TIMEOUT, async () => {
      const metricsBefore = await scrapeMetrics(setup.gateway);
      const message = await sdk.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        system: [{ type: 'text', text: 'A long shared prefix.', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: 'Hi mock:cached_tokens=3' }],
      });
      assert.equal(message.usage.cache_read_input_tokens, 3);
      const sent = await setup.upstream.lastRequest();
      if (target === 'frontier') {
        assert.deepEqual(sent.system, [{ type: 'text', text: 'A long shared prefix.', cache_control: { type: 'ephemeral' } }],
          'cache_control reaches an Anthropic backend in place');
      }
      // The log phase (metrics) runs after the answer is written: wait for it.
      let metricsAfter;
      const delta = (name, labels) => metricSum(metricsAfter, name, labels) - metricSum(metricsBefore, name, labels);
      await waitFor(async () => {
        metricsAfter = await scrapeMetrics(setup.gateway);
        return delta('switchyard_tokens_total', { direction: 'cached_input' }) >= 3;
      }, { what: 'the request\'s metrics' });
      assert.equal(delta('switchyard_tokens_total', { direction: 'cached_input' }), 3);
      const input = delta('switchyard_tokens_total', { direction: 'input' });
      assert.equal(input, message.usage.input_tokens + 3, 'input counts every prompt token, cached ones included');
      const cost = delta('switchyard_cost_usd_total', {});
      const expected = ((input - 3) * 1000 + 3 * 100) / 1e6;
      assert.ok(Math.abs(cost - expected) < 1e-9, `cost ${cost}, expected ${expected}`);
    });

    test('a wrong key is a 401 in Anthropic\'s error shape', TIMEOUT, async () => {
      const bad = new Anthropic({ apiKey: 'syk_wrong', baseURL: setup.gateway.url, maxRetries: 0 });
      await assert.rejects(
        bad.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
        (err) => err instanceof Anthropic.AuthenticationError && err.error?.error?.type === 'authentication_error',
      );
    });

    test('Claude Code completes a turn that uses a tool', { timeout: 120_000 }, async () => {
      const cwd = makeTempDir('sy-claude-cwd-');
      fs.writeFileSync(path.join(cwd, 'mock'), 'the file content 4711\n');
      const seen = (await setup.upstream.requests()).length;
      const run = await runClaude({
        baseUrl: setup.gateway.url,
        prompt: 'Read the file named mock. mock:tool_calls=1',
        cwd,
        env: { ANTHROPIC_API_KEY: setup.key },
      });
      assert.equal(run.timedOut, false, `claude timed out; stderr: ${run.stderr}`);
      assert.equal(run.code, 0, `claude exited ${run.code}; stdout: ${run.stdout}; stderr: ${run.stderr}`);
      assert.equal(run.stdout.trim(), `Hello from ${setup.upstream.name}. lorem ipsum`);
      const posts = (await setup.upstream.requests()).slice(seen).filter((r) => r.method === 'POST');
      assert.equal(posts.length, 2, 'one request for the tool call, one with its result');
      const last = JSON.stringify(posts[1].body);
      assert.match(last, /the file content 4711/, 'the tool result left the gateway');
      if (target === 'local') {
        assert.equal(posts[1].target, '/v1/chat/completions');
        assert.equal(posts[1].body.messages.at(-1).role, 'tool');
      } else {
        assert.equal(posts[1].target, '/v1/messages');
        assert.equal(posts[1].headers['x-api-key'], UPSTREAM_KEY, 'the backend key, never the client\'s');
      }
    });
  });
}

describe('the openai client through the gateway to an Anthropic backend', { timeout: 120_000 }, () => {
  let setup;
  let client;

  before(async () => {
    setup = await startSetup('frontier');
    client = new OpenAI({ apiKey: setup.key, baseURL: `${setup.gateway.url}/v1`, maxRetries: 0, timeout: 20_000 });
  });
  after(stopAll);

  const tools = [{ type: 'function', function: { name: 'read_file', parameters: READ_TOOL.input_schema } }];

  test('tool calls come back in OpenAI form, streamed and not', TIMEOUT, async () => {
    const messages = [{ role: 'user', content: 'Read it mock:tool_calls=1' }];
    const done = await client.chat.completions.create({ model: 'gpt-4o', tools, messages });
    assert.equal(done.choices[0].finish_reason, 'tool_calls');
    const call = done.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'read_file');
    assert.deepEqual(JSON.parse(call.function.arguments), { path: 'mock' });

    const stream = client.beta.chat.completions.stream({ model: 'gpt-4o', tools, messages });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(JSON.parse(final.choices[0].message.tool_calls[0].function.arguments), { path: 'mock' });
    const sent = await setup.anthropic.lastRequest();
    assert.equal(sent.tools[0].name, 'read_file');
    assert.deepEqual(sent.tools[0].input_schema, READ_TOOL.input_schema);
  });
});

// Anthropic client and Anthropic backend: the request passes through as the client sent it (no
// lossy round trip through the canonical form), with the policy's transforms applied to it.
describe('Anthropic to Anthropic: the request passes through', { timeout: 180_000 }, () => {
  let setup;
  let sdk;

  before(async () => {
    setup = await startSetup('frontier');
    sdk = new Anthropic({ apiKey: setup.key, baseURL: setup.gateway.url, maxRetries: 0, timeout: 20_000 });
  });
  after(stopAll);

  test('fields with no OpenAI form reach the backend as sent: top_k, thinking, cache_control, metadata, betas', TIMEOUT, async () => {
    const request = {
      model: 'claude-sonnet-4-5',
      max_tokens: 4000,
      top_k: 40,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral', ttl: '5m' } }],
      metadata: { user_id: 'user-7' },
      stop_sequences: ['END'],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }] }],
    };
    const message = await sdk.messages.create(request, {
      headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14,files-api-2025-04-14' },
    });
    assert.equal(message.model, 'claude-sonnet-4-5');
    const sent = await setup.anthropic.lastRequest();
    assert.deepEqual(sent, request, 'byte-for-byte what the client sent (the model is the backend\'s)');
    const headers = await setup.anthropic.lastRequestHeaders();
    assert.equal(headers['anthropic-beta'], 'interleaved-thinking-2025-05-14', 'only betas the gateway knows pass');
    assert.equal(headers['x-api-key'], UPSTREAM_KEY);
  });

  for (const stream of [false, true]) {
    test(`extended thinking: the signed thinking block comes back (${stream ? 'streamed' : 'whole'}) and verifies on the next turn`, TIMEOUT, async () => {
      const ask = { role: 'user', content: 'Think first.' };
      const params = { model: 'claude-sonnet-4-5', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 } };
      const first = stream
        ? await sdk.messages.stream({ ...params, messages: [ask] }).finalMessage()
        : await sdk.messages.create({ ...params, messages: [ask] });
      const thinking = first.content.find((b) => b.type === 'thinking');
      assert.ok(thinking, JSON.stringify(first.content));
      assert.match(thinking.signature, /^mocksig[0-9a-f]{16}$/, 'the upstream signature reaches the client');
      // The mock refuses a thinking block whose signature does not match its text, as the API does.
      const second = await sdk.messages.create({
        ...params,
        messages: [ask, { role: 'assistant', content: first.content }, { role: 'user', content: 'And then?' }],
      });
      assert.equal(second.stop_reason, 'end_turn');
      const sent = await setup.anthropic.lastRequest();
      assert.deepEqual(sent.messages[1].content[0], thinking, 'the thinking block passed through intact');
    });
  }
});

describe('Anthropic to Anthropic with DLP: transforms apply to the passed-through body', { timeout: 180_000 }, () => {
  let gateway;
  let anthropic;
  let local;
  let client;
  let capped;

  before(async () => {
    local = await startMock('local', ['--reply-tokens', '5']);
    anthropic = await startMock('anth', ['--reply-tokens', '5']);
    client = mintKey('dev');
    capped = mintKey('capped');
    const config = policy({
      backends: [
        backendFor('llama-local', local, { model: 'llama-3' }),
        { ...backendFor('claude', anthropic, { model: 'claude-sonnet-4-5', location: 'external' }), kind: 'anthropic' },
      ],
      tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['claude'] } },
      models: { 'claude-*': { tier: 'frontier' } },
      keys: [
        { id: 'dev', hash: client.hash },
        { id: 'capped', hash: capped.hash, limits: { tpm: 3000 } },
      ],
    });
    config.dlp = {
      actions: [{ name: 'pii-pseudonymized', level: 'confidential', destination: 'external', action: 'pseudonymize' }],
    };
    gateway = await startGateway(config);
  });
  after(stopAll);

  const EMAIL_ADDRESS = 'jane.roe@example.org';

  test('an e-mail in a tool result and a tool_use input leaves pseudonymized and the answer restores it', TIMEOUT, async () => {
    const sdk = new Anthropic({ apiKey: client.key, baseURL: gateway.url, maxRetries: 0 });
    await anthropic.configure({ echo_chunk_bytes: 3 });
    try {
      const message = await sdk.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 200,
        tools: [READ_TOOL],
        messages: [
          { role: 'user', content: 'Who wrote it?' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { path: `/home/${EMAIL_ADDRESS}` } }] },
          { role: 'user', content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: `author: ${EMAIL_ADDRESS}` },
            { type: 'text', text: `Reply to ${EMAIL_ADDRESS}` },
          ] },
        ],
      });
      const sent = JSON.stringify(await anthropic.lastRequest());
      assert.ok(!sent.includes(EMAIL_ADDRESS), sent);
      assert.match(sent, /"type":"tool_result"/, 'still passed through in Anthropic form');
      assert.match(sent, /author: <EMAIL_[0-9A-Z]{5}>/);
      assert.deepEqual(message.content, [{ type: 'text', text: `Reply to ${EMAIL_ADDRESS}` }],
        'the mock echoed the pseudonym; the client gets the address back');
    } finally {
      await anthropic.configure({ echo_chunk_bytes: 0 });
    }
  });

  test('a thinking block DLP rewrites is left out with the thinking setting (its signature would fail)', TIMEOUT, async () => {
    const sdk = new Anthropic({ apiKey: client.key, baseURL: gateway.url, maxRetries: 0 });
    const thinking = { type: 'thinking', thinking: `Reply to ${EMAIL_ADDRESS}.`, signature: 'mocksig0000000000000000' };
    const message = await sdk.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'Draft it.' },
        { role: 'assistant', content: [thinking, { type: 'text', text: 'Done.' }] },
        { role: 'user', content: 'Again.' },
      ],
    });
    assert.equal(message.stop_reason, 'end_turn');
    const sent = await anthropic.lastRequest();
    assert.equal(sent.thinking, undefined);
    assert.deepEqual(sent.messages[1].content, [{ type: 'text', text: 'Done.' }]);
    assert.ok(!JSON.stringify(sent).includes(EMAIL_ADDRESS));
  });

  test('a tpm window that pays for less output lowers max_tokens, and the thinking budget under it', TIMEOUT, async () => {
    const sdk = new Anthropic({ apiKey: capped.key, baseURL: gateway.url, maxRetries: 0 });
    const res = await sdk.messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 4000 },
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(res.type, 'message');
    const sent = await anthropic.lastRequest();
    assert.ok(sent.max_tokens < 3000 && sent.max_tokens > 1024, `lowered to ${sent.max_tokens}`);
    assert.equal(sent.thinking.budget_tokens, sent.max_tokens - 1, 'budget_tokens stays under max_tokens');
  });

  test('a fallback to an OpenAI-compatible backend gets the canonical request built from the transformed body', TIMEOUT, async () => {
    const raw = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': client.key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'local', max_tokens: 50, top_k: 5, messages: [{ role: 'user', content: `Mail ${EMAIL_ADDRESS}` }] }),
    });
    assert.equal(raw.status, 200, await raw.clone().text());
    const sent = await local.lastRequest();
    assert.equal(sent.top_k, undefined, 'a canonical request: no Anthropic-only fields');
    assert.equal(sent.messages[0].content, `Mail ${EMAIL_ADDRESS}`, 'self-hosted: the policy does not transform');
  });
});
