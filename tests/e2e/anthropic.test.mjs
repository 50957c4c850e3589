// Outbound `kind: anthropic` backends: the official openai client talks to the gateway, whose only
// backend is the mock's Anthropic Messages API (`--require-key` checks x-api-key and
// anthropic-version). What left the gateway is read back from the mock's /mock/last-request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import { backendFor, policy, startGateway, startMock, stopAll } from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const ROUTE = 'tier=frontier; backend=claude; model=claude-sonnet-4-5; rule=default';

describe('outbound anthropic backends', { timeout: 300_000 }, () => {
  let gateway;
  let client;
  let claude;

  before(async () => {
    claude = await startMock('claude', ['--require-key', 'sk-ant-e2e']);
    gateway = await startGateway(policy({
      backends: [backendFor('claude', claude, {
        kind: 'anthropic',
        model: 'claude-sonnet-4-5',
        location: 'external',
        api_key_env: 'SY_E2E_ANTHROPIC_KEY',
        max_tokens: 512,
      })],
      tiers: { frontier: { backends: ['claude'] } },
    }), { env: { SY_E2E_ANTHROPIC_KEY: 'sk-ant-e2e' } });
    client = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: 'sk-e2e-client-key',
      maxRetries: 0,
      timeout: 30_000,
    });
  });

  after(stopAll);

  test('a completion leaves as an Anthropic Messages request and returns as a chat.completion', TIMEOUT, async () => {
    const { data, response } = await client.chat.completions.create({
      model: 'auto',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hi there mock:reply_tokens=5' },
      ],
      temperature: 0.5,
      seed: 7,
      frequency_penalty: 0.1,
      n: 1,
      user: 'e2e-user',
    }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-switchyard-route'), ROUTE);
    assert.equal(data.object, 'chat.completion');
    assert.match(data.id, /^msg_/);
    assert.equal(data.model, 'claude-sonnet-4-5');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, 'Hello from claude. lorem ipsum');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(data.usage.completion_tokens, 5);
    assert.ok(data.usage.prompt_tokens > 0);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + 5);

    const upstream = await claude.lastRequest();
    assert.deepEqual(upstream, {
      model: 'claude-sonnet-4-5',
      system: 'You are terse.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi there mock:reply_tokens=5' }] }],
      max_tokens: 512,
      temperature: 0.5,
      metadata: { user_id: 'e2e-user' },
    }, 'system extracted, max_tokens defaulted from the backend, OpenAI-only fields left behind');
    const headers = await claude.lastRequestHeaders();
    assert.equal(headers['x-api-key'], 'sk-ant-e2e');
    assert.equal(headers['anthropic-version'], '2023-06-01');
    assert.equal(headers.authorization, undefined, 'the client key never leaves');
  });

  test("the client's max_tokens is sent, and running out of it is finish_reason length", TIMEOUT, async () => {
    const data = await client.chat.completions.create({
      model: 'auto',
      messages: [{ role: 'user', content: 'Go on. mock:reply_tokens=20' }],
      max_tokens: 3,
    });
    assert.equal(data.choices[0].message.content, 'Hello from claude.');
    assert.equal(data.choices[0].finish_reason, 'length');
    assert.equal(data.usage.completion_tokens, 3);
    assert.equal((await claude.lastRequest()).max_tokens, 3);
  });

  test('a stream is translated into chat.completion.chunk events with the role, text, finish reason and usage', TIMEOUT, async () => {
    const messages = [{ role: 'user', content: 'Tell me something. mock:reply_tokens=12' }];
    const full = await client.chat.completions.create({ model: 'auto', messages });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'auto', messages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(response.headers.get('x-switchyard-route'), ROUTE);
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'claude-sonnet-4-5'));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, full.choices[0].message.content);
    const finishes = chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean);
    assert.deepEqual(finishes, ['stop']);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, [], 'the usage chunk comes last, with no choices');
    assert.equal(last.usage.completion_tokens, 12);
    assert.equal(last.usage.prompt_tokens, full.usage.prompt_tokens);
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + 12);

    const upstream = await claude.lastRequest();
    assert.equal(upstream.stream, true);
    assert.equal(upstream.stream_options, undefined);
    assert.equal(upstream.max_tokens, 512);
  });

  test('a stream without include_usage has no usage chunk', TIMEOUT, async () => {
    const stream = await client.chat.completions.create({
      model: 'auto',
      messages: [{ role: 'user', content: 'Short. mock:reply_tokens=2' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }
    assert.ok(chunks.length >= 3);
    assert.ok(chunks.every((c) => c.choices.length === 1 && !c.usage));
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  test('tools, tool calls, tool results and images leave in Anthropic form', TIMEOUT, async () => {
    const data = await client.chat.completions.create({
      model: 'auto',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather where this photo was taken?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C and sunny' },
        { role: 'user', content: 'Summarize. mock:reply_tokens=2' },
      ],
      tools: [{
        type: 'function',
        function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      }],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    assert.equal(data.choices[0].message.content, 'Hello from');
    const upstream = await claude.lastRequest();
    assert.deepEqual(upstream.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather where this photo was taken?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        ],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C and sunny' },
          { type: 'text', text: 'Summarize. mock:reply_tokens=2' },
        ],
      },
    ]);
    assert.deepEqual(upstream.tools, [{
      name: 'get_weather',
      description: 'Weather now',
      input_schema: { type: 'object', properties: { city: { type: 'string' } } },
    }]);
    assert.deepEqual(upstream.tool_choice, { type: 'any', disable_parallel_tool_use: true });
  });

  test('tool-call arguments that are not a JSON object are a 400 naming the message', TIMEOUT, async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'auto',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"city":' } }] },
          { role: 'tool', tool_call_id: 'c', content: 'y' },
        ],
      }),
      (err) => {
        assert.equal(err.status, 400);
        assert.match(err.error.message, /^messages\[1\]\.tool_calls\[0\]\.function\.arguments: not a JSON object/);
        return true;
      },
    );
  });

  test('a request Anthropic cannot honour is a 400 and never leaves the gateway', TIMEOUT, async () => {
    const before = (await claude.stats()).requests;
    await assert.rejects(
      client.chat.completions.create({
        model: 'auto',
        messages: [{ role: 'user', content: 'Two answers please.' }],
        n: 2,
      }),
      (err) => {
        assert.equal(err.status, 400);
        assert.match(err.error.message, /^n: .*anthropic/);
        return true;
      },
    );
    assert.equal((await claude.stats()).requests, before);
  });

  // Last: its three failures count towards the backend's circuit breaker.
  test('an overloaded (529) backend is retried, then its error reaches the client in OpenAI shape', TIMEOUT, async () => {
    const before = (await claude.stats()).requests;
    await assert.rejects(
      client.chat.completions.create({
        model: 'auto',
        messages: [{ role: 'user', content: 'Busy? mock:error_status=529' }],
      }),
      (err) => {
        assert.equal(err.status, 529);
        assert.equal(err.error.message, 'Overloaded');
        assert.equal(err.error.type, 'server_error');
        assert.equal(err.code, 'overloaded_error');
        return true;
      },
    );
    assert.equal((await claude.stats()).requests - before, 3, 'tried max_attempts (3) times');
  });
});
