// Backends that serve only the OpenAI Responses API (`api: responses`): chat-completions clients
// (the official openai client) and Anthropic clients (@anthropic-ai/sdk) reach one through the
// gateway, which translates to POST /v1/responses and back. What left the gateway is read from
// the mock (switchyard-mock serves /v1/responses): a well-formed Responses body, with the DLP
// transforms of the external destination applied.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { backendFor, policy, startGateway, startMock, stopAll, EMAIL, GITHUB_TOKEN } from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };

// A pseudonym token: the label, then 5 random characters of Crockford base32.
const TOKEN = '<EMAIL_[0-9A-HJKMNP-TV-Z]{5}>';

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('a Responses-only backend behind the chat and Anthropic surfaces', { timeout: 300_000 }, () => {
  let gateway;
  let openai;
  let anthropic;
  let cloud;

  before(async () => {
    cloud = await startMock('cloud');
    gateway = await startGateway(policy({
      backends: [backendFor('cloud', cloud, { model: 'gpt-5', location: 'external', api: 'responses' })],
      tiers: { frontier: { backends: ['cloud'] } },
    }));
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
  });

  after(stopAll);

  // The last request the mock received: it went to /v1/responses, and its body.
  async function sentToResponses() {
    const log = await cloud.requests();
    const last = log[log.length - 1];
    assert.equal(last.method, 'POST');
    assert.equal(last.target, '/v1/responses');
    return last.body;
  }

  test('a chat completion leaves as a Responses request, pseudonymized, and comes back restored', TIMEOUT, async () => {
    await cloud.configure({ echo_chunk_bytes: 3 });
    try {
      const text = `Write to ${EMAIL} today.`;
      const { data, response } = await openai.chat.completions.create({
        model: 'frontier',
        max_completion_tokens: 300,
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: text }],
      }).withResponse();
      assert.equal(response.headers.get('x-switchyard-route'), 'tier=frontier; backend=cloud; model=gpt-5; rule=default');
      assert.equal(data.object, 'chat.completion');
      assert.equal(data.choices[0].message.content, text, 'the echoed pseudonym is restored');
      assert.equal(data.choices[0].finish_reason, 'stop');
      assert.ok(data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
      const sent = await sentToResponses();
      assert.equal(sent.model, 'gpt-5');
      assert.equal(sent.instructions, 'Be brief.');
      assert.equal(sent.max_output_tokens, 300);
      assert.equal(sent.store, false, 'a translated request is never stored upstream');
      assert.equal(sent.messages, undefined);
      assert.equal(sent.input.length, 1);
      assert.equal(sent.input[0].type, 'message');
      assert.equal(sent.input[0].role, 'user');
      assert.match(sent.input[0].content, new RegExp(`^Write to ${TOKEN} today\\.$`));
      assert.ok(!JSON.stringify(sent).includes(EMAIL));
    } finally {
      await cloud.configure({ echo_chunk_bytes: 0 });
    }
  });

  test('a streamed chat completion is translated from the Responses event stream, with usage', TIMEOUT, async () => {
    await cloud.configure({ echo_chunk_bytes: 3 });
    try {
      const text = `Contact ${EMAIL} or ${EMAIL}.`;
      const stream = await openai.chat.completions.create({
        model: 'frontier',
        messages: [{ role: 'user', content: text }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let content = '';
      let finish = null;
      let usage = null;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks += 1;
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices) {
          content += choice.delta?.content ?? '';
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      }
      assert.equal(content, text);
      assert.equal(finish, 'stop');
      assert.ok(chunks > 10, `the stream stayed a stream (${chunks} chunks)`);
      assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0);
      const sent = await sentToResponses();
      assert.equal(sent.stream, true);
      assert.equal(sent.stream_options, undefined);
      assert.match(sent.input[0].content, new RegExp(`^Contact (${TOKEN}) or \\1\\.$`));
    } finally {
      await cloud.configure({ echo_chunk_bytes: 0 });
    }
  });

  for (const stream of [false, true]) {
    test(`a tool call round trip (${stream ? 'streamed' : 'not streamed'}) through function_call items`, TIMEOUT, async () => {
      const ask = { role: 'user', content: `Weather in Rome for ${EMAIL}? mock:tool_calls=1` };
      let call;
      if (stream) {
        const calls = [];
        let finish = null;
        for await (const chunk of await openai.chat.completions.create({
          model: 'frontier', messages: [ask], tools: [WEATHER_TOOL], stream: true,
        })) {
          for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
            calls[delta.index] ??= { id: '', name: '', arguments: '' };
            calls[delta.index].id += delta.id ?? '';
            calls[delta.index].name += delta.function?.name ?? '';
            calls[delta.index].arguments += delta.function?.arguments ?? '';
          }
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        assert.equal(finish, 'tool_calls');
        assert.equal(calls.length, 1);
        call = { id: calls[0].id, type: 'function', function: { name: calls[0].name, arguments: calls[0].arguments } };
      } else {
        const data = await openai.chat.completions.create({ model: 'frontier', messages: [ask], tools: [WEATHER_TOOL] });
        assert.equal(data.choices[0].finish_reason, 'tool_calls');
        assert.equal(data.choices[0].message.content, null);
        call = data.choices[0].message.tool_calls[0];
      }
      assert.equal(call.id, 'call_mock_1');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'mock' });
      let sent = await sentToResponses();
      assert.deepEqual(sent.tools, [{ type: 'function', ...WEATHER_TOOL.function }]);

      const answer = await openai.chat.completions.create({
        model: 'frontier',
        tools: [WEATHER_TOOL],
        messages: [ask, { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: `22C, sent to ${EMAIL}` }],
      });
      assert.equal(answer.choices[0].finish_reason, 'stop');
      assert.ok(answer.choices[0].message.content.length > 0);
      sent = await sentToResponses();
      assert.deepEqual(sent.input.map((item) => item.type), ['message', 'function_call', 'function_call_output']);
      assert.deepEqual(sent.input[1], { type: 'function_call', call_id: 'call_mock_1', name: 'get_weather', arguments: call.function.arguments });
      assert.equal(sent.input[2].call_id, 'call_mock_1');
      assert.match(sent.input[2].output, new RegExp(`^22C, sent to ${TOKEN}$`), 'a tool result is pseudonymized too');
      assert.ok(!JSON.stringify(sent).includes(EMAIL));
    });
  }

  test('an Anthropic client reaches the Responses backend, streamed and not', TIMEOUT, async () => {
    const message = await anthropic.messages.create({
      model: 'frontier',
      max_tokens: 200,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello mock:reply_tokens=4' }],
    });
    assert.equal(message.type, 'message');
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.content[0].text, 'Hello from cloud. lorem');
    assert.ok(message.usage.input_tokens > 0);
    let sent = await sentToResponses();
    assert.equal(sent.instructions, 'Be brief.');
    assert.equal(sent.max_output_tokens, 200);
    assert.deepEqual(sent.input, [{ type: 'message', role: 'user', content: 'Hello mock:reply_tokens=4' }]);

    let text = '';
    const stream = anthropic.messages.stream({
      model: 'frontier', max_tokens: 200, messages: [{ role: 'user', content: 'Hello mock:reply_tokens=4' }],
    });
    stream.on('text', (delta) => { text += delta; });
    const final = await stream.finalMessage();
    assert.equal(text, 'Hello from cloud. lorem');
    assert.equal(final.stop_reason, 'end_turn');
    sent = await sentToResponses();
    assert.equal(sent.stream, true);
  });

  test('an Anthropic tool_use round trip, with the e-mail pseudonymized in what left', TIMEOUT, async () => {
    const tools = [{ name: 'get_weather', input_schema: WEATHER_TOOL.function.parameters }];
    const ask = { role: 'user', content: `Weather for ${EMAIL}? mock:tool_calls=1` };
    const first = await anthropic.messages.create({ model: 'frontier', max_tokens: 200, tools, messages: [ask] });
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find((block) => block.type === 'tool_use');
    assert.deepEqual(use.input, { city: 'mock' });
    const second = await anthropic.messages.create({
      model: 'frontier', max_tokens: 200, tools,
      messages: [ask, { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '22C' }] }],
    });
    assert.equal(second.stop_reason, 'end_turn');
    const sent = await sentToResponses();
    assert.deepEqual(sent.input.map((item) => item.type), ['message', 'function_call', 'function_call_output']);
    assert.equal(sent.input[2].output, '22C');
    assert.match(JSON.stringify(sent.input[0]), new RegExp(TOKEN));
    assert.ok(!JSON.stringify(sent).includes(EMAIL));
  });

  test('upstream errors: a 400 reaches the client as it is, a 503 is a 502/503 in the client surface', TIMEOUT, async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'x mock:error_status=400' }] }),
      (error) => error.status === 400,
    );
    await assert.rejects(
      anthropic.messages.create({ model: 'frontier', max_tokens: 10, messages: [{ role: 'user', content: 'x mock:error_status=503' }] }),
      (error) => error.status >= 500 && error.error?.type === 'error',
    );
  });

  test('a request the Responses API cannot express is refused with a 400 naming the field', TIMEOUT, async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: 'frontier', stop: ['END'], messages: [{ role: 'user', content: 'x' }] }),
      (error) => error.status === 400 && /stop: not supported by responses backends/.test(error.message),
    );
  });
});

// A Responses client and a backend that serves /v1/responses: the client's body passes through
// (model, output cap and DLP transforms applied inside it), the answer comes back through answer
// DLP; a chat-only backend keeps the translated path.
describe('a Responses client passes through to a Responses backend', { timeout: 300_000 }, () => {
  let gateway;
  let client;
  let cloud;
  let local;

  const FLAT_TOOL = { type: 'function', ...WEATHER_TOOL.function };

  before(async () => {
    [cloud, local] = await Promise.all([startMock('cloud'), startMock('local')]);
    const config = policy({
      backends: [
        backendFor('cloud', cloud, { model: 'gpt-5', location: 'external', api: 'responses' }),
        backendFor('local', local, { model: 'llama-3', api: 'chat' }),
      ],
      tiers: { frontier: { backends: ['cloud'] }, local: { backends: ['local'] } },
    });
    config.dlp = {
      actions: [
        { name: 'secrets-never-leave', detectors: ['secrets'], destination: 'external', action: 'block' },
        { name: 'confidential-pseudonymized', level: 'confidential', destination: 'external', action: 'pseudonymize' },
      ],
    };
    gateway = await startGateway(config);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
  });

  after(stopAll);

  async function sentTo(mock, target) {
    const log = await mock.requests();
    const last = log[log.length - 1];
    assert.equal(last.target, target);
    return last.body;
  }

  test('the native body leaves pseudonymized in every field and the answer comes back restored', TIMEOUT, async () => {
    await cloud.configure({ echo_chunk_bytes: 3 });
    try {
      const text = `Write to ${EMAIL} today.`;
      const { data, response } = await client.responses.create({
        model: 'frontier',
        instructions: `Sign as ${EMAIL}.`,
        input: [{ role: 'user', content: [{ type: 'input_text', text }] }],
        tools: [FLAT_TOOL],
        metadata: { ticket: EMAIL },
        text: { verbosity: 'low' },
        max_output_tokens: 300,
        store: false,
      }).withResponse();
      assert.equal(response.headers.get('x-switchyard-route'), 'tier=frontier; backend=cloud; model=gpt-5; rule=default');
      assert.equal(data.object, 'response');
      assert.equal(data.status, 'completed');
      assert.equal(data.output_text, text, 'the echoed pseudonym is restored');
      assert.ok(data.usage.input_tokens > 0 && data.usage.output_tokens > 0);
      const sent = await sentTo(cloud, '/v1/responses');
      assert.equal(sent.model, 'gpt-5');
      assert.equal(sent.max_output_tokens, 300);
      assert.equal(sent.store, false);
      assert.deepEqual(sent.tools, [FLAT_TOOL], 'the tools as the client sent them');
      assert.deepEqual(sent.text, { verbosity: 'low' });
      assert.equal(sent.messages, undefined, 'not translated to chat');
      assert.match(sent.instructions, new RegExp(`^Sign as ${TOKEN}\\.$`));
      assert.match(sent.metadata.ticket, new RegExp(`^${TOKEN}$`));
      assert.equal(sent.input[0].content[0].type, 'input_text');
      assert.match(sent.input[0].content[0].text, new RegExp(`^Write to ${TOKEN} today\\.$`));
      assert.ok(!JSON.stringify(sent).includes(EMAIL));
    } finally {
      await cloud.configure({ echo_chunk_bytes: 0 });
    }
  });

  test('a streamed answer is restored across events split at every byte, with usage', TIMEOUT, async () => {
    await cloud.configure({ echo_chunk_bytes: 1 });
    try {
      const text = `Contact ${EMAIL} or ${EMAIL}.`;
      const stream = await client.responses.create({ model: 'frontier', input: text, stream: true });
      let deltas = '';
      let completed = null;
      const sequence = [];
      for await (const event of stream) {
        sequence.push(event.sequence_number);
        if (event.type === 'response.output_text.delta') deltas += event.delta;
        if (event.type === 'response.completed') completed = event.response;
      }
      assert.equal(deltas, text);
      assert.deepEqual(sequence, sequence.map((_, i) => i));
      assert.ok(completed && completed.usage.output_tokens > 0);
      assert.equal(completed.output[0].content[0].text, text);
      const sent = await sentTo(cloud, '/v1/responses');
      assert.equal(sent.stream, true);
      assert.match(sent.input, new RegExp(`^Contact (${TOKEN}) or \\1\\.$`));
    } finally {
      await cloud.configure({ echo_chunk_bytes: 0 });
    }
  });

  for (const stream of [false, true]) {
    test(`a function tool round trip (${stream ? 'streamed' : 'not streamed'}) passes through as items`, TIMEOUT, async () => {
      const ask = { role: 'user', content: `Weather in Rome for ${EMAIL}? mock:tool_calls=1` };
      let call;
      if (stream) {
        let args = '';
        for await (const event of await client.responses.create({
          model: 'frontier', input: [ask], tools: [FLAT_TOOL], stream: true,
        })) {
          if (event.type === 'response.function_call_arguments.delta') args += event.delta;
          if (event.type === 'response.completed') call = event.response.output.find((item) => item.type === 'function_call');
        }
        assert.equal(args, call.arguments);
      } else {
        const data = await client.responses.create({ model: 'frontier', input: [ask], tools: [FLAT_TOOL] });
        call = data.output.find((item) => item.type === 'function_call');
      }
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.arguments), { city: 'mock' });
      const answer = await client.responses.create({
        model: 'frontier',
        tools: [FLAT_TOOL],
        input: [ask, { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: `22C, sent to ${EMAIL}` }],
      });
      assert.equal(answer.status, 'completed');
      assert.ok(answer.output_text.length > 0);
      const sent = await sentTo(cloud, '/v1/responses');
      assert.deepEqual(sent.input.map((item) => item.type ?? 'message'), ['message', 'function_call', 'function_call_output']);
      assert.deepEqual(sent.input[1], { type: 'function_call', call_id: call.call_id, name: 'get_weather', arguments: call.arguments });
      assert.match(sent.input[2].output, new RegExp(`^22C, sent to ${TOKEN}$`), 'a call output is pseudonymized too');
      assert.ok(!JSON.stringify(sent).includes(EMAIL));
    });
  }

  test('a blocked secret never reaches the backend; an unknown field is a 400', TIMEOUT, async () => {
    const before = (await cloud.stats()).requests;
    await assert.rejects(
      client.responses.create({ model: 'frontier', input: [{ role: 'user', content: [{ type: 'input_text', text: `token ${GITHUB_TOKEN}` }] }] }),
      (error) => error.status === 403 && /secrets-never-leave/.test(error.message) && !error.message.includes(GITHUB_TOKEN.slice(4)),
    );
    await assert.rejects(
      client.responses.create({ model: 'frontier', input: 'hi', novel_field: { note: EMAIL } }),
      (error) => error.status === 400 && error.param === 'novel_field',
    );
    assert.equal((await cloud.stats()).requests, before);
  });

  test('a chat-only backend still gets the request translated to chat completions', TIMEOUT, async () => {
    const data = await client.responses.create({ model: 'local', instructions: 'Be brief.', input: 'Hello mock:reply_tokens=3' });
    assert.equal(data.status, 'completed');
    assert.ok(data.output_text.length > 0);
    const sent = await sentTo(local, '/v1/chat/completions');
    assert.equal(sent.model, 'llama-3');
    assert.deepEqual(sent.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello mock:reply_tokens=3' }]);
  });

  test('built-in OpenAI tools are refused under the default policy', TIMEOUT, async () => {
    await assert.rejects(
      client.responses.create({ model: 'frontier', input: 'news?', tools: [{ type: 'web_search' }] }),
      (error) => error.status === 400 && /responses\.builtin_tools: allow/.test(error.message),
    );
  });
});

describe('responses.builtin_tools: allow', { timeout: 300_000 }, () => {
  let gateway;
  let client;
  let openaiCloud;
  let vendorLocal;

  before(async () => {
    [openaiCloud, vendorLocal] = await Promise.all([startMock('openai'), startMock('local')]);
    const config = policy({
      backends: [
        backendFor('openai', openaiCloud, { model: 'gpt-5', location: 'external', api: 'responses' }),
        backendFor('local', vendorLocal, { model: 'llama-3', api: 'chat' }),
      ],
      tiers: { frontier: { backends: ['openai'] }, local: { backends: ['local'] }, mixed: { backends: ['local', 'openai'] } },
    });
    config.responses = { builtin_tools: 'allow' };
    gateway = await startGateway(config);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
  });

  after(stopAll);

  test('built-in tools pass through to an OpenAI Responses backend, and only there', TIMEOUT, async () => {
    const tools = [{ type: 'web_search', search_context_size: 'low' }, { type: 'function', ...WEATHER_TOOL.function }];
    const data = await client.responses.create({ model: 'frontier', input: 'news?', tools, tool_choice: 'auto' });
    assert.equal(data.status, 'completed');
    const log = await openaiCloud.requests();
    assert.deepEqual(log.at(-1).body.tools, tools);
    // In a tier with a chat-only backend, routing picks only the one that serves them.
    for (let i = 0; i < 4; i += 1) {
      const { response } = await client.responses.create({ model: 'mixed', input: 'news?', tools }).withResponse();
      assert.match(response.headers.get('x-switchyard-route'), /backend=openai;/);
    }
    assert.equal((await vendorLocal.stats()).requests, 0);
    await assert.rejects(
      client.responses.create({ model: 'local', input: 'news?', tools }),
      (error) => error.status === 400 && /supports built-in OpenAI tools/.test(error.message),
    );
    assert.equal((await vendorLocal.stats()).requests, 0, 'never widened to a backend that cannot run them');
  });
});
