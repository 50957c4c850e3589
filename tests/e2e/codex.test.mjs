// The Codex CLI (`codex exec`, @openai/codex pinned in package-lock.json) through the gateway's
// Responses surface: a turn in which the mock calls Codex's shell tool, Codex runs it in its
// sandbox and sends the output back, and the mock's answer is what Codex prints; to a
// chat-completions backend (translated) and to one that serves only the Responses API. The mocks'
// request logs show what left the gateway; a trap proxy shows that Codex reached no other host.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { codexConfig, runCodex } from './lib/codex.mjs';
import { backendFor, mintKey, policy, startGateway, startMock, stopAll, EMAIL } from './lib/harness.mjs';

const RUN_TIMEOUT = { timeout: 120_000 };
const PSEUDONYM = /<EMAIL_[0-9A-HJKMNP-TV-Z]{5}>/;

describe('the Codex CLI through the gateway', { timeout: 400_000 }, () => {
  let gateway;
  let cloud;
  let resp;
  let key;

  before(async () => {
    [cloud, resp] = await Promise.all([startMock('cloud'), startMock('resp')]);
    const client = mintKey('codex');
    key = client.key;
    const config = policy({
      backends: [
        backendFor('gpt', cloud, { model: 'gpt-4o-2024-08-06', location: 'external', api: 'chat' }),
        backendFor('gpt-resp', resp, { model: 'gpt-4.1-2025-04-14', location: 'external', api: 'responses' }),
      ],
      tiers: { frontier: { backends: ['gpt'] }, responses: { backends: ['gpt-resp'] } },
      models: { 'gpt-4.1': { tier: 'responses' }, 'gpt-*': { tier: 'frontier' } },
      keys: [{ id: 'codex', hash: client.hash }],
    });
    config.dlp = {
      actions: [{ name: 'pii-pseudonymized', level: 'confidential', destination: 'external', action: 'pseudonymize' }],
    };
    gateway = await startGateway(config);
  });

  after(stopAll);

  // The POSTs `mock` received since `seen` requests.
  async function postsSince(seen, mock = cloud) {
    return (await mock.requests()).slice(seen).filter((r) => r.method === 'POST');
  }

  test('codex exec completes a turn in which it runs a tool', RUN_TIMEOUT, async () => {
    const seen = (await cloud.requests()).length;
    const logged = gateway.accessLog().length;
    const run = await runCodex({
      config: codexConfig(`${gateway.url}/v1`),
      key,
      prompt: 'List the files here. mock:tool_calls=1 mock:reply_tokens=5',
    });
    assert.equal(run.timedOut, false, `codex timed out; stderr: ${run.stderr}`);
    assert.equal(run.code, 0, `codex exited ${run.code}; stderr: ${run.stderr}`);
    assert.equal(run.stdout.trim(), 'Hello from cloud. lorem ipsum');
    assert.equal(run.outsideConnections, 0, 'no connection to any other host');

    const posts = await postsSince(seen);
    assert.equal(posts.length, 2, 'one request for the tool call, one with its output');
    for (const { target, headers, body } of posts) {
      assert.equal(target, '/v1/chat/completions', 'translated for a chat-completions backend');
      assert.equal(body.model, 'gpt-4o-2024-08-06');
      assert.equal(body.stream, true);
      assert.equal(body.messages[0].role, 'system', 'Codex\'s developer instructions');
      assert.match(body.messages[0].content, /Codex/);
      assert.ok(body.tools.some((t) => t.function.name === 'exec_command'), 'Codex\'s shell tool');
      assert.ok(body.tools.every((t) => t.type === 'function'));
      assert.ok(body.tools.some((t) => /^multi_agent_v1__\w+$/.test(t.function.name)),
        'Codex\'s sub-agent tools (a Responses tool namespace) as prefixed chat functions');
      assert.equal(body.client_metadata, undefined, 'Codex\'s own labels do not leave');
      assert.equal(body.prompt_cache_key !== undefined, true, 'the cache key is carried');
      assert.equal(headers.authorization, undefined, 'the client key never leaves');
      assert.ok(body.messages.some((m) => m.role === 'user' && JSON.stringify(m.content).includes('List the files here.')));
    }
    const second = posts[1].body.messages;
    const call = second.find((m) => m.tool_calls)?.tool_calls[0];
    assert.deepEqual([call.id, call.function.name, JSON.parse(call.function.arguments)],
      ['call_mock_1', 'exec_command', { cmd: 'mock' }]);
    const output = second.at(-1);
    assert.equal(output.role, 'tool');
    assert.equal(output.tool_call_id, 'call_mock_1');
    assert.match(output.content, /mock: command not found/, 'what Codex\'s sandboxed shell printed');

    const lines = [await gateway.waitForAccessLog(logged), await gateway.waitForAccessLog(logged + 1)];
    for (const line of lines) {
      assert.equal(line.surface, 'responses');
      assert.equal(line.key_id, 'codex');
      assert.equal(line.status, 200);
      assert.equal(line.stream, true);
    }
  });

  test('codex exec completes a tool turn against a backend that serves only the Responses API', RUN_TIMEOUT, async () => {
    const seen = (await resp.requests()).length;
    const run = await runCodex({
      config: codexConfig(`${gateway.url}/v1`, { model: 'gpt-4.1' }),
      key,
      prompt: 'List the files here. mock:tool_calls=1 mock:reply_tokens=5',
    });
    assert.equal(run.code, 0, `codex exited ${run.code}; stderr: ${run.stderr}`);
    assert.equal(run.stdout.trim(), 'Hello from resp. lorem ipsum');
    assert.equal(run.outsideConnections, 0);
    const posts = await postsSince(seen, resp);
    assert.equal(posts.length, 2);
    for (const { target, body } of posts) {
      assert.equal(target, '/v1/responses');
      assert.equal(body.model, 'gpt-4.1-2025-04-14');
      assert.equal(body.stream, true);
      assert.equal(body.client_metadata, undefined);
      assert.ok(body.tools.some((t) => t.type === 'function' && t.name === 'exec_command'));
    }
    const items = posts[1].body.input;
    const call = items.find((item) => item.type === 'function_call');
    assert.deepEqual([call.call_id, call.name, JSON.parse(call.arguments)], ['call_mock_1', 'exec_command', { cmd: 'mock' }]);
    const output = items.find((item) => item.type === 'function_call_output');
    assert.equal(output.call_id, 'call_mock_1');
    assert.match(output.output, /mock: command not found/);
  });

  test('an e-mail in the prompt leaves pseudonymized and Codex prints it restored', RUN_TIMEOUT, async () => {
    // The mock echoes the last user message (the prompt), 3 bytes per event.
    await cloud.configure({ echo_chunk_bytes: 3 });
    try {
      const seen = (await cloud.requests()).length;
      const prompt = `Write to ${EMAIL} today.`;
      const run = await runCodex({ config: codexConfig(`${gateway.url}/v1`), key, prompt });
      assert.equal(run.code, 0, `codex exited ${run.code}; stderr: ${run.stderr}`);
      assert.equal(run.stdout.trim(), prompt);
      const [post] = await postsSince(seen);
      const sent = JSON.stringify(post.body);
      assert.match(sent, PSEUDONYM);
      assert.ok(!sent.includes(EMAIL), 'the address never reached the external backend');
    } finally {
      await cloud.configure({ echo_chunk_bytes: 0 });
    }
  });

  test('Codex\'s default hosted web search is refused with a 400 that names it', RUN_TIMEOUT, async () => {
    const seen = (await cloud.requests()).length;
    const run = await runCodex({
      config: codexConfig(`${gateway.url}/v1`).replace('web_search = "disabled"', 'web_search = "cached"'),
      key,
      prompt: 'Say hi.',
    });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /web_search/);
    assert.match(run.stderr, /invalid_request_error/);
    assert.equal((await postsSince(seen)).length, 0, 'nothing reached the backend');
  });
});
