// The official clients parse what the mock sends: @anthropic-ai/sdk (messages, streams, tools,
// count_tokens, errors) and openai (tool calls, streamed and not), directly against the mock.
// Proves the mock is faithful to the wire formats the SDKs accept before the gateway is put in
// between.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { startMock, stopAll } from './lib/harness.mjs';

const TIMEOUT = { timeout: 30_000 };
const READ_TOOL = {
  name: 'read_file',
  description: 'Reads a file',
  input_schema: {
    type: 'object',
    properties: { path: { type: 'string' }, limit: { type: 'integer' } },
    required: ['path'],
  },
};

describe('official SDKs against the mock', { timeout: 120_000 }, () => {
  let mock;
  let anthropic;
  let openai;

  before(async () => {
    mock = await startMock('sdk-mock', ['--reply-tokens', '4', '--require-key', 'test-key']);
    anthropic = new Anthropic({ apiKey: 'test-key', baseURL: mock.url, maxRetries: 0, timeout: 10_000 });
    openai = new OpenAI({ apiKey: 'test-key', baseURL: `${mock.url}/v1`, maxRetries: 0, timeout: 10_000 });
  });
  after(stopAll);

  test('the Anthropic SDK reads a message with its text and usage', TIMEOUT, async () => {
    const message = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Hi mock:cached_tokens=2' }],
    });
    assert.equal(message.type, 'message');
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello from sdk-mock. lorem' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.output_tokens, 4);
    assert.equal(message.usage.cache_read_input_tokens, 2);
    assert.equal(message.usage.cache_creation_input_tokens, 0);
  });

  test('the Anthropic SDK stream helper assembles the streamed text into the final message', TIMEOUT, async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Hi mock:reply_tokens=6' }],
    });
    const pieces = [];
    stream.on('text', (t) => pieces.push(t));
    const message = await stream.finalMessage();
    assert.equal(pieces.length, 6);
    assert.equal(pieces.join(''), 'Hello from sdk-mock. lorem ipsum dolor');
    assert.deepEqual(message.content, [{ type: 'text', text: pieces.join('') }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.output_tokens, 6);
  });

  test('the Anthropic SDK reads tool_use blocks and a tool result ends the loop with text', TIMEOUT, async () => {
    const first = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      tools: [READ_TOOL],
      tool_choice: { type: 'auto' },
      messages: [{ role: 'user', content: 'Read it mock:tool_calls=1' }],
    });
    assert.equal(first.stop_reason, 'tool_use');
    assert.deepEqual(first.content, [
      { type: 'tool_use', id: 'toolu_mock_1', name: 'read_file', input: { path: 'mock' } },
    ]);
    const second = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      tools: [READ_TOOL],
      messages: [
        { role: 'user', content: 'Read it mock:tool_calls=1' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_mock_1', content: 'data' }] },
      ],
    });
    assert.equal(second.stop_reason, 'end_turn');
    assert.equal(second.content[0].type, 'text');
  });

  test('the Anthropic SDK stream parser assembles streamed tool_use input into objects', TIMEOUT, async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-test',
      max_tokens: 100,
      tools: [READ_TOOL, { name: 'now', input_schema: { type: 'object', properties: {} } }],
      messages: [{ role: 'user', content: 'Go mock:tool_calls=3' }],
    });
    const partials = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const message = await stream.finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual(message.content, [
      { type: 'tool_use', id: 'toolu_mock_1', name: 'read_file', input: { path: 'mock' } },
      { type: 'tool_use', id: 'toolu_mock_2', name: 'now', input: {} },
      { type: 'tool_use', id: 'toolu_mock_3', name: 'read_file', input: { path: 'mock' } },
    ]);
    assert.ok(partials.length >= 4, `input arrives in pieces: ${partials}`);
  });

  test('the Anthropic SDK counts tokens and raises typed errors', TIMEOUT, async () => {
    const count = await anthropic.messages.countTokens({
      model: 'claude-test',
      messages: [{ role: 'user', content: 'abcdefgh' }],
    });
    assert.deepEqual(count, { input_tokens: 5 });  // ceil(8 / 4) + 3
    await assert.rejects(
      anthropic.messages.create({
        model: 'claude-test',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x mock:error_status=429' }],
      }),
      (err) => err instanceof Anthropic.RateLimitError && err.error?.error?.type === 'rate_limit_error',
    );
  });

  test('the openai client reads tool calls, streamed and not', TIMEOUT, async () => {
    const tools = [{
      type: 'function',
      function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    }];
    const messages = [{ role: 'user', content: 'Weather? mock:tool_calls=2' }];
    const completion = await openai.chat.completions.create({ model: 'gpt-test', tools, messages });
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.deepEqual(choice.message.tool_calls.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)]), [
      ['call_mock_1', 'get_weather', { city: 'mock' }],
      ['call_mock_2', 'get_weather', { city: 'mock' }],
    ]);
    const stream = openai.beta.chat.completions.stream({ model: 'gpt-test', tools, messages, stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(final.choices[0].message.tool_calls.map((c) => [c.id, c.type, c.function.name, c.function.arguments]), [
      ['call_mock_1', 'function', 'get_weather', '{"city":"mock"}'],
      ['call_mock_2', 'function', 'get_weather', '{"city":"mock"}'],
    ]);
    assert.ok(final.usage.completion_tokens > 0);
  });
});
