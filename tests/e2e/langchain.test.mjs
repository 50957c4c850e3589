// LangChain.js (`@langchain/openai` ChatOpenAI, pinned in package-lock.json) through the
// gateway, on chat completions and with `useResponsesApi: true`: `bindTools` with the tool call
// streamed and not, the tool's result answered in a streamed second turn, and an e-mail address
// pseudonymized for the external backend and restored in the stream. The mock's request log shows
// what left the gateway.
//
// `streaming: true` with `invoke()` is not used: on chat completions LangChain then counts tokens
// with tiktoken, whose encoding it downloads from the internet at that moment (the test would wait
// for retries against a network it must not use). `stream()` is how LangChain streams anyway.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { concat } from '@langchain/core/utils/stream';
import { ChatOpenAI } from '@langchain/openai';

import { backendFor, mintKey, policy, startGateway, startMock, stopAll, EMAIL } from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const PSEUDONYM = /<EMAIL_[0-9A-HJKMNP-TV-Z]{5}>/;
const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('LangChain.js ChatOpenAI through the gateway', { timeout: 300_000 }, () => {
  let gateway;
  let cloud;
  let key;

  before(async () => {
    cloud = await startMock('cloud');
    const client = mintKey('notebook');
    key = client.key;
    const config = policy({
      backends: [backendFor('gpt', cloud, { model: 'gpt-4o-2024-08-06', location: 'external' })],
      tiers: { frontier: { backends: ['gpt'] } },
      models: { 'gpt-*': { tier: 'frontier' } },
      keys: [{ id: 'notebook', hash: client.hash }],
    });
    config.dlp = {
      actions: [{ name: 'pii-pseudonymized', level: 'confidential', destination: 'external', action: 'pseudonymize' }],
    };
    gateway = await startGateway(config);
  });

  after(stopAll);

  // A ChatOpenAI pointed at the gateway as a user would: base URL (with /v1) and a Switchyard key.
  function chatModel(useResponsesApi, fields = {}) {
    return new ChatOpenAI({
      model: 'gpt-4o',
      apiKey: key,
      configuration: { baseURL: `${gateway.url}/v1` },
      useResponsesApi,
      maxRetries: 0,
      timeout: 20_000,
      ...fields,
    });
  }

  async function lastPost() {
    return (await cloud.requests()).filter((r) => r.method === 'POST').at(-1);
  }

  // The streamed message, its chunks merged as LangChain merges them; and how many there were.
  async function streamed(runnable, input) {
    let message;
    let chunks = 0;
    for await (const chunk of await runnable.stream(input)) {
      message = message ? concat(message, chunk) : chunk;
      chunks += 1;
    }
    return { message, chunks };
  }

  // The tool turn that left the gateway: the conversation with the call and its result, the tool.
  function assertToolTurnLeft(sent) {
    const { body } = sent;
    assert.equal(body.model, 'gpt-4o-2024-08-06');
    assert.equal(body.stream, true);
    if (sent.target === '/v1/responses') {
      const call = body.input.find((item) => item.type === 'function_call');
      assert.deepEqual([call.call_id, call.name, JSON.parse(call.arguments)], ['call_mock_1', 'get_weather', { city: 'mock' }]);
      const output = body.input.find((item) => item.type === 'function_call_output');
      assert.deepEqual([output.call_id, output.output], ['call_mock_1', 'Sunny in mock']);
      assert.deepEqual(body.tools.map((t) => t.name), ['get_weather']);
      return;
    }
    assert.equal(sent.target, '/v1/chat/completions');
    assert.deepEqual(body.messages.map((m) => m.role), ['system', 'user', 'assistant', 'tool']);
    assert.equal(body.messages[0].content, 'Be brief.');
    assert.deepEqual(body.messages[2].tool_calls, [
      { id: 'call_mock_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"mock"}' } },
    ]);
    assert.deepEqual(body.messages[3], { role: 'tool', tool_call_id: 'call_mock_1', content: 'Sunny in mock' });
    assert.deepEqual(body.tools, [WEATHER]);
    assert.deepEqual(body.stream_options, { include_usage: true });
  }

  for (const useResponsesApi of [false, true]) {
    const api = useResponsesApi ? 'useResponsesApi' : 'chat completions';
    const surface = useResponsesApi ? 'responses' : 'openai';

    test(`${api}: bindTools, the tool call streamed, its result answered in a streamed turn`, TIMEOUT, async () => {
      const model = chatModel(useResponsesApi, { streaming: true }).bindTools([WEATHER]);
      const seen = gateway.accessLog().length;
      const ask = [new SystemMessage('Be brief.'), new HumanMessage('Weather in Paris? mock:tool_calls=1 mock:reply_tokens=5')];
      const first = await streamed(model, ask);
      assert.equal((await gateway.waitForAccessLog(seen)).surface, surface, 'the API the client called');
      assert.ok(first.chunks >= 3, `the call arrived in ${first.chunks} chunks`);
      assert.deepEqual(first.message.tool_calls.map((c) => [c.id, c.name, c.args]),
        [['call_mock_1', 'get_weather', { city: 'mock' }]]);
      assert.ok(first.message.usage_metadata.input_tokens > 0, 'usage from the stream');

      const result = new ToolMessage({ content: 'Sunny in mock', tool_call_id: first.message.tool_calls[0].id });
      const second = await streamed(model, [...ask, first.message, result]);
      assert.ok(second.chunks >= 5, `the answer arrived in ${second.chunks} chunks`);
      assert.equal(second.message.text, 'Hello from cloud. lorem ipsum');
      assert.deepEqual(second.message.tool_calls, []);
      assert.equal(second.message.usage_metadata.output_tokens, 5);
      assertToolTurnLeft(await lastPost());
    });

    test(`${api}: bindTools with invoke gets the tool call whole`, TIMEOUT, async () => {
      const model = chatModel(useResponsesApi).bindTools([WEATHER], { tool_choice: 'get_weather' });
      const seen = gateway.accessLog().length;
      const message = await model.invoke('Weather in Paris? mock:tool_calls=1');
      assert.equal((await gateway.waitForAccessLog(seen)).surface, surface, 'the API the client called');
      assert.deepEqual(message.tool_calls.map((c) => [c.id, c.name, c.args]),
        [['call_mock_1', 'get_weather', { city: 'mock' }]]);
      const { target, body } = await lastPost();
      assert.ok(!body.stream, 'not streamed');
      if (target === '/v1/chat/completions') {
        assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'get_weather' } });
      } else {
        assert.deepEqual(body.tool_choice, { type: 'function', name: 'get_weather' });
      }
    });

    test(`${api}: an e-mail leaves pseudonymized and the stream restores it`, TIMEOUT, async () => {
      await cloud.configure({ echo_chunk_bytes: 3 });
      try {
        const prompt = `Write to ${EMAIL} today.`;
        const { message, chunks } = await streamed(chatModel(useResponsesApi, { streaming: true }), prompt);
        assert.ok(chunks > 5, `streamed in ${chunks} chunks`);
        assert.equal(message.text, prompt);
        const sent = JSON.stringify((await lastPost()).body);
        assert.match(sent, PSEUDONYM);
        assert.ok(!sent.includes(EMAIL), sent);
      } finally {
        await cloud.configure({ echo_chunk_bytes: 0 });
      }
    });
  }
});
