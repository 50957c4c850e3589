// Claude Code (`claude -p`, @anthropic-ai/claude-code pinned in package-lock.json) completes a
// turn that uses a tool against the mock's /v1/messages, and the mock's request log shows what it
// sent. Runs against the mock directly; to run it through the gateway, point baseUrl at it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { runClaude } from './lib/claude.mjs';
import { makeTempDir, startMock, stopAll } from './lib/harness.mjs';

describe('Claude Code against the mock', { timeout: 180_000 }, () => {
  let mock;

  before(async () => {
    mock = await startMock('claude-mock', ['--reply-tokens', '5']);
  });
  after(stopAll);

  test('claude -p reads a file through a tool call and prints the answer that follows', { timeout: 120_000 }, async () => {
    const cwd = makeTempDir('sy-claude-cwd-');
    // The mock calls the first declared tool (Read) with its required string argument "mock".
    fs.writeFileSync(path.join(cwd, 'mock'), 'the file content 4711\n');
    const seen = (await mock.requests()).length;
    const run = await runClaude({
      baseUrl: mock.url,
      prompt: 'Read the file named mock. mock:tool_calls=1',
      cwd,
    });
    assert.equal(run.timedOut, false, `claude timed out; stderr: ${run.stderr}`);
    assert.equal(run.code, 0, `claude exited ${run.code}; stderr: ${run.stderr}`);
    assert.equal(run.stdout.trim(), 'Hello from claude-mock. lorem ipsum');

    const log = (await mock.requests()).slice(seen);
    const posts = log.filter((r) => r.method === 'POST');
    assert.ok(log.every((r) => r.method === 'POST' || (r.method === 'HEAD' && r.target === '/')),
      `only HEAD / and POSTs: ${log.map((r) => `${r.method} ${r.target}`)}`);
    assert.equal(posts.length, 2, 'one request for the tool call, one with its result');
    for (const r of posts) {
      assert.equal(r.target.split('?')[0], '/v1/messages');
      assert.equal(r.headers['x-api-key'], 'test-key');
      assert.equal(r.headers['anthropic-version'], '2023-06-01');
      assert.match(r.headers['user-agent'], /^claude-cli\//);
      assert.equal(r.body.stream, true);
      assert.ok(Array.isArray(r.body.system), 'system is an array of text blocks');
      assert.deepEqual(r.body.tools.map((t) => t.name), ['Read']);
      assert.ok(r.body.messages.every((m) => m.role === 'user' || m.role === 'assistant'));
    }
    const [first, second] = posts.map((r) => r.body.messages);
    assert.equal(first.length, 1);
    assert.ok(first[0].content.some((b) => b.type === 'text' && b.text.includes('Read the file named mock')));
    assert.equal(second.length, 3);
    assert.deepEqual(second[1], {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_mock_1', name: 'Read', input: { file_path: 'mock' } }],
    });
    const result = second[2].content.find((b) => b.type === 'tool_result');
    assert.equal(result.tool_use_id, 'toolu_mock_1');
    assert.match(JSON.stringify(result.content), /the file content 4711/);
  });
});
