// The Vercel AI SDK (`ai` with `@ai-sdk/openai` and `@ai-sdk/anthropic`, pinned in
// package-lock.json) through the gateway, unmodified: the default `openai(model)` provider (the
// Responses API, to a chat-completions backend and to one that serves only the Responses API),
// `openai.chat(model)` (chat completions) and `anthropic(model)` (Messages), each running `generateText` and `streamText` with a tool that the model calls, the SDK executes,
// and whose result the second step answers. The mocks' request logs show what left the gateway:
// the backend's model, the conversation with the tool call and its result, the tool's schema, and
// an e-mail address pseudonymized for the external backends (and restored in what the SDK gets).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';

import {
  backendFor, mintKey, policy, startGateway, startMock, stopAll, EMAIL,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const PSEUDONYM = /<EMAIL_[0-9A-HJKMNP-TV-Z]{5}>/;
const CITY_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};

// The three providers: which gateway surface each one calls and which mock answers it.
const PROVIDERS = {
  responses: { surface: 'responses', mock: 'cloud', model: (p) => p.openai('gpt-4o') },
  'responses to a Responses backend': { surface: 'responses', mock: 'resp', model: (p) => p.openai('gpt-4.1') },
  chat: { surface: 'openai', mock: 'cloud', model: (p) => p.openai.chat('gpt-4o') },
  anthropic: { surface: 'anthropic', mock: 'anth', model: (p) => p.anthropic('claude-sonnet-4-5') },
};

const TIERS = { cloud: 'openai', resp: 'responses', anth: 'anthropic' };
const UPSTREAM_MODELS = { cloud: 'gpt-4o-2024-08-06', resp: 'gpt-4.1-2025-04-14', anth: 'claude-sonnet-4-5-20250929' };

describe('the Vercel AI SDK through the gateway', { timeout: 300_000 }, () => {
  let gateway;
  const mocks = {};
  let providers;

  before(async () => {
    [mocks.cloud, mocks.resp, mocks.anth] =
      await Promise.all([startMock('cloud'), startMock('resp'), startMock('anth')]);
    const client = mintKey('web-app');
    const config = policy({
      backends: [
        backendFor('gpt', mocks.cloud, { model: 'gpt-4o-2024-08-06', location: 'external' }),
        backendFor('gpt-resp', mocks.resp, { model: 'gpt-4.1-2025-04-14', location: 'external', api: 'responses' }),
        { ...backendFor('claude', mocks.anth, { model: 'claude-sonnet-4-5-20250929', location: 'external' }),
          kind: 'anthropic' },
      ],
      tiers: { openai: { backends: ['gpt'] }, responses: { backends: ['gpt-resp'] }, anthropic: { backends: ['claude'] } },
      models: { 'gpt-4.1': { tier: 'responses' }, 'gpt-*': { tier: 'openai' }, 'claude-*': { tier: 'anthropic' } },
      keys: [{ id: 'web-app', hash: client.hash }],
    });
    config.dlp = {
      actions: [{ name: 'pii-pseudonymized', level: 'confidential', destination: 'external', action: 'pseudonymize' }],
    };
    gateway = await startGateway(config);
    // Pointed at the gateway as a user would: its base URL (with /v1) and a Switchyard key.
    const settings = { baseURL: `${gateway.url}/v1`, apiKey: client.key };
    providers = { openai: createOpenAI(settings), anthropic: createAnthropic(settings) };
  });

  after(stopAll);

  // The newest POST the mock received: {target, headers, body}.
  async function lastPost(mock) {
    const posts = (await mock.requests()).filter((r) => r.method === 'POST');
    return posts.at(-1);
  }


  const weatherTool = () => ({
    get_weather: tool({
      description: 'The weather in a city',
      inputSchema: jsonSchema(CITY_SCHEMA),
      execute: async ({ city }) => `Sunny in ${city}`,
    }),
  });

  // What the second step (after the tool ran) sent upstream, in the API the backend was sent
  // (a Responses request to a backend that serves both may go either way).
  function assertToolTurnLeft(name, sent, stream) {
    const { body } = sent;
    assert.equal(body.stream ?? false, stream);
    assert.equal(body.model, UPSTREAM_MODELS[PROVIDERS[name].mock]);
    if (PROVIDERS[name].mock === 'resp') {
      assert.equal(sent.target, '/v1/responses', 'a Responses-only backend');
    }
    if (sent.target === '/v1/responses') {
      // A Responses body: the tool call and its output as items, the function tool flat.
      assert.match(JSON.stringify(body.input), /Weather in Paris\?/);
      assert.match(JSON.stringify([body.instructions, body.input]), /Be brief\./);
      const call = body.input.find((item) => item.type === 'function_call');
      assert.deepEqual([call.call_id, call.name, JSON.parse(call.arguments)], ['call_mock_1', 'get_weather', { city: 'mock' }]);
      const output = body.input.find((item) => item.type === 'function_call_output');
      assert.deepEqual([output.call_id, output.output], ['call_mock_1', 'Sunny in mock']);
      assert.deepEqual(body.tools.map((t) => [t.type, t.name]), [['function', 'get_weather']]);
      assert.deepEqual(body.tools[0].parameters, CITY_SCHEMA);
    } else if (sent.target === '/v1/chat/completions') {
      assert.deepEqual(body.messages[0], { role: 'system', content: 'Be brief.' });
      assert.equal(body.messages[1].role, 'user');
      assert.match(JSON.stringify(body.messages[1].content), /Weather in Paris\?/);
      assert.deepEqual(body.messages[2].tool_calls, [
        { id: 'call_mock_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"mock"}' } },
      ]);
      assert.deepEqual(body.messages[3], { role: 'tool', tool_call_id: 'call_mock_1', content: 'Sunny in mock' });
      assert.equal(body.tools.length, 1);
      assert.equal(body.tools[0].function.name, 'get_weather');
      assert.deepEqual(body.tools[0].function.parameters, CITY_SCHEMA);
    } else {
      assert.equal(sent.target, '/v1/messages');
      assert.deepEqual(body.system, [{ type: 'text', text: 'Be brief.' }]);
      assert.deepEqual(body.messages[1].content, [
        { type: 'tool_use', id: 'toolu_mock_1', name: 'get_weather', input: { city: 'mock' } },
      ]);
      assert.deepEqual(body.messages[2].content, [
        { type: 'tool_result', tool_use_id: 'toolu_mock_1', content: 'Sunny in mock' },
      ]);
      assert.equal(body.tools.length, 1);
      assert.deepEqual(body.tools[0].input_schema, CITY_SCHEMA);
      // The SDK asks for fine-grained tool streaming when it streams; it passes through.
      assert.equal(body.tools[0].eager_input_streaming, stream ? true : undefined);
      assert.equal(sent.headers['x-api-key'], undefined, 'no upstream key configured: none sent');
    }
    assert.ok(!JSON.stringify(sent.headers).includes('syk_'), 'the client key never leaves');
  }

  // Both steps of a tool loop: the call with the mock's arguments, the SDK's result, the answer.
  function assertSteps(name, steps, text) {
    const upstream = PROVIDERS[name].mock;
    assert.equal(steps.length, 2);
    assert.equal(steps[0].finishReason, 'tool-calls');
    assert.deepEqual(steps[0].toolCalls.map((c) => [c.toolName, c.input]), [['get_weather', { city: 'mock' }]]);
    assert.equal(steps[0].toolCalls[0].toolCallId, upstream === 'anth' ? 'toolu_mock_1' : 'call_mock_1');
    assert.deepEqual(steps[0].toolResults.map((r) => r.output), ['Sunny in mock']);
    assert.equal(steps[1].finishReason, 'stop');
    assert.equal(text, `Hello from ${upstream}. lorem ipsum`);
    assert.equal(steps[1].usage.outputTokens, 5);
    assert.ok(steps[1].usage.inputTokens > 0);
  }

  for (const name of Object.keys(PROVIDERS)) {
    const { surface, mock } = PROVIDERS[name];
    const args = () => ({
      model: PROVIDERS[name].model(providers),
      system: 'Be brief.',
      prompt: 'Weather in Paris? mock:tool_calls=1 mock:reply_tokens=5',
      tools: weatherTool(),
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });

    test(`${name}: generateText runs the tool and completes the second step`, TIMEOUT, async () => {
      const seen = gateway.accessLog().length;
      const result = await generateText(args());
      assert.equal((await gateway.waitForAccessLog(seen)).surface, surface, 'the API the client called');
      assertSteps(name, result.steps, result.text);
      assert.match(result.response.headers['x-switchyard-route'], new RegExp(`tier=${TIERS[mock]};`));
      assertToolTurnLeft(name, await lastPost(mocks[mock]), false);
    });

    test(`${name}: streamText streams the tool call, runs the tool and streams the answer`, TIMEOUT, async () => {
      const errors = [];
      const seen = gateway.accessLog().length;
      const result = streamText({ ...args(), onError: ({ error }) => errors.push(error) });
      const parts = [];
      for await (const part of result.fullStream) parts.push(part.type);
      assert.deepEqual(errors, []);
      assert.equal((await gateway.waitForAccessLog(seen)).surface, surface, 'the API the client called');
      assertSteps(name, await result.steps, await result.text);
      assert.ok(parts.includes('tool-input-delta'), `the arguments arrived streamed: ${parts}`);
      assert.deepEqual(parts.filter((t) => ['tool-call', 'tool-result', 'finish-step'].includes(t)),
        ['tool-call', 'tool-result', 'finish-step', 'finish-step']);
      assert.ok(parts.filter((t) => t === 'text-delta').length >= 3, 'the answer arrived in pieces');
      assertToolTurnLeft(name, await lastPost(mocks[mock]), true);
    });

    test(`${name}: an e-mail leaves pseudonymized and comes back restored, streamed and not`, TIMEOUT, async () => {
      // The mock echoes the last user message, 3 bytes per event: the pseudonym comes back split.
      await mocks[mock].configure({ echo_chunk_bytes: 3 });
      try {
        const prompt = `Write to ${EMAIL} today.`;
        const model = PROVIDERS[name].model(providers);
        const whole = await generateText({ model, prompt, maxRetries: 0 });
        assert.equal(whole.text, prompt);
        const streamed = streamText({ model, prompt, maxRetries: 0 });
        const pieces = [];
        for await (const piece of streamed.textStream) pieces.push(piece);
        assert.ok(pieces.length > 3, `streamed in ${pieces.length} pieces`);
        assert.equal(pieces.join(''), prompt);
        const sent = JSON.stringify((await lastPost(mocks[mock])).body);
        assert.match(sent, PSEUDONYM);
        assert.ok(!sent.includes(EMAIL), sent);
      } finally {
        await mocks[mock].configure({ echo_chunk_bytes: 0 });
      }
    });
  }
});
