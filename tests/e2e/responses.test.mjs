// The OpenAI Responses surface (POST /v1/responses) through the official openai client's
// `responses.create`: non-streamed, streamed with `for await`, and a function-tool loop whose
// follow-up turn sends `function_call_output` in `input`. The first suite's backend serves only
// chat completions (`api: chat`), so the gateway translates every Responses request to chat
// completions; what left it is read back from the mock's /mock/last-request. (The abandoned
// stream's backend is a default `kind: openai` one, which serves /v1/responses: its requests pass
// through; responses_backend.test.mjs tests that path in full.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import {
  backendFor,
  makeTempDir,
  metricSum,
  mintKey,
  policy,
  post,
  scrapeMetrics,
  startGateway,
  startMock,
  stopAll,
  waitFor,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const WEATHER = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

describe('the OpenAI Responses surface', { timeout: 300_000 }, () => {
  let gateway;
  let client;
  let mock;

  before(async () => {
    mock = await startMock('local');
    gateway = await startGateway(policy({
      backends: [backendFor('llama', mock, { model: 'llama-3', api: 'chat' })],
      tiers: { local: { backends: ['llama'] } },
    }));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-e2e', maxRetries: 0, timeout: 30_000 });
  });

  after(stopAll);

  test('a response is answered in the Responses shape and left as a chat completion', TIMEOUT, async () => {
    const { data, response } = await client.responses.create({
      model: 'auto',
      instructions: 'Be terse.',
      input: 'Hi there mock:reply_tokens=5 mock:cached_tokens=2',
      max_output_tokens: 100,
      temperature: 0.5,
      metadata: { ticket: 'T-1' },
      reasoning: { effort: 'low' },
      user: 'e2e-user',
      store: false,
    }).withResponse();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('x-switchyard-route'), /backend=llama/);
    assert.match(data.id, /^resp_[0-9a-f]{24}$/);
    assert.equal(data.object, 'response');
    assert.equal(data.status, 'completed');
    assert.equal(data.model, 'auto');
    assert.equal(data.output.length, 1);
    const [message] = data.output;
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.status, 'completed');
    assert.match(message.id, /^msg_/);
    assert.deepEqual(message.content, [
      { type: 'output_text', text: 'Hello from local. lorem ipsum', annotations: [] },
    ]);
    assert.equal(data.output_text, 'Hello from local. lorem ipsum', 'the SDK computes output_text');
    assert.equal(data.usage.output_tokens, 5);
    assert.equal(data.usage.input_tokens_details.cached_tokens, 2);
    assert.equal(data.usage.total_tokens, data.usage.input_tokens + 5);
    assert.equal(data.instructions, 'Be terse.');
    assert.equal(data.temperature, 0.5);
    assert.equal(data.max_output_tokens, 100);
    assert.deepEqual(data.metadata, { ticket: 'T-1' });
    assert.equal(data.store, false);

    const sent = await mock.lastRequest();
    assert.equal(sent.model, 'llama-3');
    assert.deepEqual(sent.messages, [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Hi there mock:reply_tokens=5 mock:cached_tokens=2' },
    ]);
    assert.equal(sent.max_tokens, 100);
    assert.equal(sent.temperature, 0.5);
    assert.equal(sent.reasoning_effort, 'low');
    assert.deepEqual(sent.metadata, { ticket: 'T-1' });
    assert.equal(sent.user, 'e2e-user');
    for (const field of ['input', 'instructions', 'max_output_tokens', 'store', 'reasoning']) {
      assert.ok(!(field in sent), `${field} does not leave the gateway`);
    }
  });

  test('a streamed response arrives as Responses events with stable ids and sequence numbers', TIMEOUT, async () => {
    const stream = await client.responses.create({
      model: 'auto',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Stream mock:reply_tokens=6' }] }],
      stream: true,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 4), [
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
    ]);
    assert.deepEqual(types.slice(-4), [
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    assert.equal(types.filter((t) => t === 'response.output_text.delta').length, 6);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    const itemId = events[2].item.id;
    assert.ok(deltas.every((d) => d.item_id === itemId && d.output_index === 0 && d.content_index === 0));
    const text = deltas.map((d) => d.delta).join('');
    assert.equal(text, 'Hello from local. lorem ipsum dolor');
    const done = events.at(-1).response;
    assert.equal(done.id, events[0].response.id);
    assert.equal(done.status, 'completed');
    assert.equal(done.output[0].id, itemId);
    assert.equal(done.output[0].content[0].text, text);
    assert.equal(done.usage.output_tokens, 6);
    const sent = await mock.lastRequest();
    assert.equal(sent.stream, true);
    assert.deepEqual(sent.stream_options, { include_usage: true });
  });

  test('a function tool is called and the follow-up turn sends its output in input', TIMEOUT, async () => {
    const input = [{ role: 'user', content: 'Weather in Paris? mock:tool_calls=2' }];
    const first = await client.responses.create({
      model: 'auto', input, tools: [WEATHER], tool_choice: 'auto', parallel_tool_calls: true,
    });
    assert.equal(first.status, 'completed');
    const calls = first.output.filter((item) => item.type === 'function_call');
    assert.equal(calls.length, 2);
    assert.deepEqual(calls.map((c) => [c.name, c.arguments, c.call_id, c.status]), [
      ['get_weather', '{"city":"mock"}', 'call_mock_1', 'completed'],
      ['get_weather', '{"city":"mock"}', 'call_mock_2', 'completed'],
    ]);
    assert.ok(calls.every((c) => c.id.startsWith('fc_')));
    let sent = await mock.lastRequest();
    assert.deepEqual(sent.tools, [{
      type: 'function',
      function: { name: 'get_weather', description: 'The weather in a city', parameters: WEATHER.parameters, strict: true },
    }]);
    assert.equal(sent.tool_choice, 'auto');
    assert.equal(sent.parallel_tool_calls, true);

    const second = await client.responses.create({
      model: 'auto',
      tools: [WEATHER],
      input: [
        ...input,
        ...first.output,  // the calls as the API returned them (ids and status included)
        { type: 'function_call_output', call_id: 'call_mock_1', output: '18C' },
        { type: 'function_call_output', call_id: 'call_mock_2', output: '19C' },
      ],
    });
    assert.equal(second.output[0].type, 'message');
    assert.match(second.output_text, /^Hello from local/);
    sent = await mock.lastRequest();
    assert.deepEqual(sent.messages.slice(1), [
      { role: 'assistant', content: null, tool_calls: calls.map((c) => ({
        id: c.call_id, type: 'function', function: { name: c.name, arguments: c.arguments },
      })) },
      { role: 'tool', tool_call_id: 'call_mock_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_mock_2', content: '19C' },
    ]);
  });

  test('streamed function calls arrive as argument deltas of their own items', TIMEOUT, async () => {
    const stream = await client.responses.create({
      model: 'auto', input: 'Go mock:tool_calls=2', tools: [WEATHER], stream: true,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    const added = events.filter((e) => e.type === 'response.output_item.added');
    assert.deepEqual(added.map((e) => [e.item.type, e.output_index]), [['function_call', 0], ['function_call', 1]]);
    for (const item of added) {
      const args = events.filter((e) => e.type === 'response.function_call_arguments.delta' && e.item_id === item.item.id)
        .map((e) => e.delta).join('');
      assert.equal(args, '{"city":"mock"}');
      const done = events.find((e) => e.type === 'response.function_call_arguments.done' && e.item_id === item.item.id);
      assert.equal(done.arguments, args);
    }
    assert.equal(events.at(-1).type, 'response.completed');
    assert.equal(events.at(-1).response.output.length, 2);
  });

  test('a capped answer is incomplete, with the reason', TIMEOUT, async () => {
    const data = await client.responses.create({ model: 'auto', input: 'Long mock:reply_tokens=30', max_output_tokens: 3 });
    assert.equal(data.status, 'incomplete');
    assert.deepEqual(data.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal((await mock.lastRequest()).max_tokens, 3);
  });

  test('JSON schemas go out as response_format', TIMEOUT, async () => {
    await client.responses.create({
      model: 'auto',
      input: 'JSON please',
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object', properties: {} }, strict: true } },
    });
    assert.deepEqual((await mock.lastRequest()).response_format, {
      type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: {} }, strict: true },
    });
  });

  test('what the gateway does not serve is a 400 in OpenAI\'s error shape, and nothing leaves', TIMEOUT, async () => {
    const before = (await mock.stats()).requests;
    const cases = [
      [{ model: 'auto', input: 'q', previous_response_id: 'resp_1' }, 'previous_response_id',
        /^400 This gateway does not store responses \(its policy sets responses.store: false\)/],
      [{ model: 'auto', input: 'q', tools: [{ type: 'web_search_preview' }] }, 'tools[0]',
        /built-in tool 'web_search_preview' is not supported/],
      [{ model: 'auto', input: 'q', seed: 1 }, 'seed', /unsupported field 'seed'/],
      [{ model: 'auto', input: [{ type: 'file_search_call', id: 'fs_1' }] }, 'input[0]',
        /unsupported input item type 'file_search_call'/],
    ];
    for (const [body, param, message] of cases) {
      await assert.rejects(client.responses.create(body), (error) => {
        assert.equal(error.status, 400);
        assert.equal(error.type, 'invalid_request_error');
        assert.equal(error.param, param);
        assert.match(error.message, message);
        return true;
      });
    }
    assert.equal((await mock.stats()).requests, before, 'nothing reached the backend');
  });

  test('the gateway\'s own errors on this path are OpenAI-shaped', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/responses', 'not json', {
      headers: { authorization: 'Bearer sk-e2e', 'content-type': 'application/json' },
    });
    assert.equal(res.status, 400, res.body);
    assert.equal(res.json.error.type, 'invalid_request_error');
    assert.equal(res.json.error.code, 'invalid_json');
    const get = await post(gateway, '/v1/responses', {}, { method: 'GET', headers: { authorization: 'Bearer sk-e2e' } });
    assert.equal(get.status, 405, get.body);
    assert.equal(get.json.error.code, 'method_not_allowed');
  });

  test('a stream whose upstream breaks ends with response.failed', TIMEOUT, async () => {
    // Last: the gateway closes the connection of a broken stream, which the SDK's keep-alive
    // pool would hand to the next request.
    const stream = await client.responses.create({
      model: 'auto', input: 'Break mock:reply_tokens=10 mock:disconnect_after=3', stream: true,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    assert.equal(events.filter((e) => e.type === 'response.output_text.delta').length, 3);
    const failed = events.at(-1);
    assert.equal(failed.type, 'response.failed');
    assert.equal(failed.sequence_number, events.length - 1);
    assert.equal(failed.response.id, events[0].response.id);
    assert.equal(failed.response.status, 'failed');
    assert.equal(failed.response.error.code, 'server_error');
    assert.equal(failed.response.output[0].status, 'incomplete');
  });
});

describe('a Responses stream the client abandons is charged', { timeout: 180_000 }, () => {
  let gateway;
  let key;
  let auditPath;

  before(async () => {
    const mock = await startMock('streamer');
    key = mintKey('agent-key', 'agents');
    const dir = makeTempDir();
    auditPath = path.join(dir, 'audit.jsonl');
    const config = policy({
      backends: [backendFor('priced', mock, { model: 'm', cost: { input_per_mtok: 1, output_per_mtok: 2 } })],
      tiers: { local: { backends: ['priced'] } },
      keys: [{ id: 'agent-key', hash: key.hash, team: 'agents', allow: { endpoints: ['chat'] } }],
    });
    config.audit = { path: auditPath, durability: 'batch' };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  test('what was relayed reaches the access log (surface responses), the metrics and the audit record', TIMEOUT, async () => {
    const controller = new AbortController();
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const stream = await client.responses.create(
      { model: 'auto', stream: true, input: 'long mock:reply_tokens=2000 mock:tokens_per_sec=200' },
      { signal: controller.signal },
    );
    let deltas = 0;
    try {
      for await (const event of stream) {
        if (event.type === 'response.output_text.delta') deltas += 1;
        if (deltas === 13) controller.abort();
      }
    } catch {
      // the abort
    }
    assert.ok(deltas >= 13, `received ${deltas} deltas`);
    const line = await waitFor(
      () => gateway.logLines().filter((l) => l.msg === 'request' && l.key_id === 'agent-key').at(-1),
      { what: 'the access log line', timeoutMs: 20_000 },
    );
    assert.equal(line.surface, 'responses');
    assert.equal(line.endpoint, 'chat');
    assert.equal(line.status, 200);
    assert.equal(line.stream, true);
    assert.ok(line.tokens_out >= 13 && line.tokens_out < 2000, `tokens_out ${line.tokens_out}`);
    assert.ok(line.cost_usd > 0, `cost_usd ${line.cost_usd}`);
    assert.equal(line.usage_estimated, true);

    const metrics = await scrapeMetrics(gateway);
    assert.ok(metricSum(metrics, 'switchyard_tokens_total', { team: 'agents', direction: 'output' }) >= 13);
    assert.ok(metricSum(metrics, 'switchyard_cost_usd_total', { team: 'agents' }) > 0);

    await gateway.stop();  // drains the audit writer
    const records = fs.readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const done = records.filter((r) => r.phase === 'completion').at(-1);
    assert.equal(done.tokens.completion, line.tokens_out);
    assert.ok(done.cost_usd > 0);
  });
});

describe('key scopes hold on the Responses surface', { timeout: 120_000 }, () => {
  let gateway;
  let key;

  before(async () => {
    const mock = await startMock('scoped');
    key = mintKey('embed-only', 'batch');
    gateway = await startGateway(policy({
      backends: [backendFor('llama', mock, { model: 'llama-3' })],
      tiers: { local: { backends: ['llama'] } },
      keys: [{ id: 'embed-only', hash: key.hash, team: 'batch', allow: { endpoints: ['embeddings'] } }],
    }));
  });

  after(stopAll);

  test('a key without the chat endpoint is refused before its body is read', TIMEOUT, async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.key, maxRetries: 0 });
    await assert.rejects(client.responses.create({ model: 'auto', input: 'hi' }), (error) => {
      assert.equal(error.status, 403);
      assert.equal(error.type, 'permission_error');
      return true;
    });
  });
});
