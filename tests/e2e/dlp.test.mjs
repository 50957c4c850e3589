// DLP end to end: what reaches each mock model server (self-hosted vs external), what the client
// gets back (pseudonyms restored, secrets redacted, streams included), blocks, metrics, and
// `explain` through the CLI and the admin plane. The mocks echo the prompt (echo_chunk_bytes) in
// 3-byte stream chunks, so values and pseudonym tokens are split across SSE events.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import {
  SWITCHYARD_BIN,
  backendFor,
  chatBody,
  curlRequest,
  errorOf,
  metricValue,
  policy,
  post,
  request,
  runCli,
  scrapeMetrics,
  sseData,
  startGateway,
  startMock,
  stopAll,
  CARD,
  EMAIL,
  GITHUB_TOKEN,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };

// A pseudonym token: the label, then 5 random characters of Crockford base32.
const TOKEN = '<EMAIL_[0-9A-HJKMNP-TV-Z]{5}>';

function lastUserText(body) {
  const messages = body.messages;
  const content = messages[messages.length - 1].content;
  return typeof content === 'string' ? content : content.map((p) => p.text ?? '').join('');
}

describe('DLP on requests and responses', { timeout: 300_000 }, () => {
  let gateway;
  let client;
  let local;
  let cloud;

  before(async () => {
    [local, cloud] = await Promise.all([startMock('local'), startMock('cloud')]);
    await Promise.all([local.configure({ echo_chunk_bytes: 3 }), cloud.configure({ echo_chunk_bytes: 3 })]);
    const config = policy({
      backends: [
        backendFor('llama-local', local, { model: 'llama-3' }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external' }),
      ],
      tiers: {
        local: { backends: ['llama-local'] },
        frontier: { backends: ['cloud'] },
        mixed: { backends: ['cloud', 'llama-local'] },
      },
    });
    // The default action rules apply to prompts; answers are scanned only with response rules.
    config.dlp = { responses: { actions: [{ name: 'no-secrets-back', detectors: ['secrets'], action: 'redact' }] } };
    gateway = await startGateway(config);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
  });

  after(stopAll);

  test('a card number bound for an external backend is refused with 403 policy_violation naming the rule, never the value', TIMEOUT, async () => {
    const before = (await cloud.stats()).requests;
    const res = await curlRequest(`${gateway.url}/v1/chat/completions`, {
      body: chatBody('frontier', `Charge ${CARD} for the order`),
    });
    assert.equal(res.status, 403, res.body);
    const error = errorOf(res.json);
    assert.equal(error.code, 'policy_violation');
    assert.equal(error.type, 'permission_error');
    assert.match(error.message, /DLP rule 'restricted-stays-home': credit_card \(pii\) found in messages\[0\]\.content/);
    assert.ok(!res.body.includes('1111'), res.body);
    assert.equal((await cloud.stats()).requests, before, 'nothing reached the external backend');
  });

  test('the same card may go to a self-hosted backend, and a mixed tier skips its external backend', TIMEOUT, async () => {
    for (const model of ['local', 'mixed']) {
      const res = await post(gateway, '/v1/chat/completions', chatBody(model, `Charge ${CARD} now`));
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['x-switchyard-route'], `tier=${model}; backend=llama-local; model=llama-3; rule=default`);
      assert.equal(lastUserText(await local.lastRequest()), `Charge ${CARD} now`);
    }
  });

  test('an e-mail address reaches the external model pseudonymized and comes back restored (non-streamed)', TIMEOUT, async () => {
    const text = `Write to ${EMAIL} and cc ${EMAIL}.`;
    const res = await post(gateway, '/v1/chat/completions', chatBody('frontier', text));
    assert.equal(res.status, 200, res.body);
    const upstream = lastUserText(await cloud.lastRequest());
    assert.match(upstream, new RegExp(`^Write to (${TOKEN}) and cc \\1\\.$`));
    assert.equal(res.json.choices[0].message.content, text, 'the client sees its own text again');
  });

  test('streamed through the openai client: pseudonyms split across 3-byte chunks are restored, no token leaks', TIMEOUT, async () => {
    const text = `Contact ${EMAIL} today, or ${EMAIL} tomorrow.`;
    const stream = await client.chat.completions.create({
      model: 'frontier',
      messages: [{ role: 'user', content: text }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let chunks = 0;
    let finish = null;
    let usage = null;
    for await (const chunk of stream) {
      chunks += 1;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        content += choice.delta?.content ?? '';
        assert.ok(!(choice.delta?.content ?? '').includes('<EMAIL'), 'no pseudonym reaches the client');
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }
    assert.equal(content, text);
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.completion_tokens > 0);
    assert.ok(chunks > 10, `the stream stayed a stream (${chunks} chunks)`);
    assert.match(lastUserText(await cloud.lastRequest()), new RegExp(`^Contact (${TOKEN}) today, or \\1 tomorrow\\.$`));
  });

  test('content parts and tool-call arguments are pseudonymized too', TIMEOUT, async () => {
    const body = {
      model: 'frontier',
      messages: [
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'send', arguments: JSON.stringify({ to: EMAIL }) } }] },
        { role: 'tool', tool_call_id: 'c1', content: `delivered to ${EMAIL}` },
        { role: 'user', content: [{ type: 'text', text: `Did ${EMAIL} get it?` }] },
      ],
    };
    const res = await post(gateway, '/v1/chat/completions', body);
    assert.equal(res.status, 200, res.body);
    const upstream = await cloud.lastRequest();
    const raw = JSON.stringify(upstream);
    assert.ok(!raw.includes(EMAIL), raw);
    const token = JSON.parse(upstream.messages[0].tool_calls[0].function.arguments).to;
    assert.match(token, new RegExp(`^${TOKEN}$`));
    assert.equal(upstream.messages[1].content, `delivered to ${token}`);
    assert.equal(upstream.messages[2].content[0].text, `Did ${token} get it?`);
    assert.equal(res.json.choices[0].message.content, `Did ${EMAIL} get it?`);
  });

  test('a secret in a model answer is redacted, streamed (curl) and not', TIMEOUT, async () => {
    const text = `the token is ${GITHUB_TOKEN} ok`;
    const plain = await post(gateway, '/v1/chat/completions', chatBody('local', text));
    assert.equal(plain.status, 200, plain.body);
    assert.equal(lastUserText(await local.lastRequest()), text, 'self-hosted backends get the prompt as is');
    assert.equal(plain.json.choices[0].message.content, 'the token is [GITHUB_TOKEN] ok');

    const streamed = await curlRequest(`${gateway.url}/v1/chat/completions`, {
      body: chatBody('local', text, { stream: true }),
      extra: ['-N'],
    });
    assert.equal(streamed.status, 200, streamed.body);
    assert.ok(!streamed.body.includes(GITHUB_TOKEN.slice(4, 20)), 'no piece of the token leaks in any event');
    const events = sseData(streamed.body);
    assert.equal(events[events.length - 1], '[DONE]');
    const content = events.slice(0, -1).map((d) => JSON.parse(d))
      .flatMap((c) => c.choices).map((c) => c.delta?.content ?? '').join('');
    assert.equal(content, 'the token is [GITHUB_TOKEN] ok');
  });

  test('findings and blocks are counted by detector, action and rule', TIMEOUT, async () => {
    const metrics = await scrapeMetrics(gateway);
    assert.ok(metricValue(metrics, 'switchyard_dlp_findings_total', { detector: 'email', action: 'pseudonymize', direction: 'request' }) >= 3);
    assert.ok(metricValue(metrics, 'switchyard_dlp_findings_total', { detector: 'credit_card', action: 'block', direction: 'request' }) >= 1);
    assert.ok(metricValue(metrics, 'switchyard_dlp_findings_total', { detector: 'secret.github_token', action: 'redact', direction: 'response' }) >= 2);
    assert.ok(metricValue(metrics, 'switchyard_dlp_blocks_total', { rule: 'restricted-stays-home' }) >= 1);
    assert.ok(!metrics.includes(EMAIL) && !metrics.includes(GITHUB_TOKEN));
  });

  test('POST /admin/explain and `switchyard explain` give the same decision without forwarding', TIMEOUT, async () => {
    const before = (await cloud.stats()).requests;
    const body = chatBody('frontier', `Mail ${EMAIL}`);
    const res = await request({
      port: gateway.adminPort,
      method: 'POST',
      path: '/admin/explain',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, res.body);
    const decision = JSON.parse(res.body);
    assert.equal(decision.action, 'redact');
    assert.equal(decision.tier, 'frontier');
    assert.equal(decision.backend, 'cloud');
    assert.equal(decision.sensitivity, 'confidential');
    assert.deepEqual(
      decision.findings.map(({ detector, class: cls, start, end, action }) => ({ detector, cls, start, end, action })),
      [{ detector: 'email', cls: 'pii', start: 5, end: 25, action: 'pseudonymize' }],
    );
    assert.equal((await cloud.stats()).requests, before);

    const cli = spawnSync(SWITCHYARD_BIN, ['explain', '--config', gateway.configFile], {
      input: JSON.stringify(body),
      encoding: 'utf8',
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), decision);

    const jsonl = spawnSync(SWITCHYARD_BIN, ['explain', '--config', gateway.configFile, '--jsonl'], {
      input: `${JSON.stringify(body)}\n${JSON.stringify(chatBody('frontier', `card ${CARD}`))}\n{"model":\n`,
      encoding: 'utf8',
    });
    assert.equal(jsonl.status, 3, 'a refused body makes the exit code 3');
    const lines = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((d) => d.action ?? d.error.code), ['redact', 'block', 'invalid_json']);
    assert.ok(!jsonl.stdout.includes('1111 1111'));
  });
});

describe('a policy with custom rules and its own actions', { timeout: 120_000 }, () => {
  let gateway;
  let local;
  let cloud;

  before(async () => {
    [local, cloud] = await Promise.all([startMock('local2'), startMock('cloud2')]);
    await Promise.all([local.configure({ echo_chunk_bytes: 4 }), cloud.configure({ echo_chunk_bytes: 4 })]);
    const config = policy({
      backends: [
        backendFor('llama-local', local, { model: 'llama-3' }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external' }),
      ],
      tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
    });
    config.dlp = {
      custom: [
        { name: 'customer-id', pattern: '\\bCUST-\\d{8}\\b', level: 'confidential' },
        { name: 'codenames', keywords: ['bluebird'], case_insensitive: true, level: 'restricted' },
      ],
      actions: [
        { name: 'no-codenames', detectors: ['codenames'], action: 'block' },
        { name: 'mask-customers-out', detectors: ['customer-id'], destination: 'external', action: 'mask' },
        { name: 'redact-emails', detectors: ['email'], action: 'redact' },
      ],
      responses: { actions: [{ name: 'answers-without-customers', detectors: ['customer-id'], action: 'redact' }] },
    };
    gateway = await startGateway(config);
  });

  after(stopAll);

  test('custom rules block everywhere, mask for external backends, redact e-mails for all', TIMEOUT, async () => {
    const blocked = await post(gateway, '/v1/chat/completions', chatBody('local', 'Status of Project BlueBird?'));
    assert.equal(blocked.status, 403, blocked.body);
    assert.match(errorOf(blocked.json).message, /DLP rule 'no-codenames': codenames \(custom\)/);

    const text = `Customer CUST-12345678 wrote from ${EMAIL}`;
    const res = await post(gateway, '/v1/chat/completions', chatBody('frontier', text));
    assert.equal(res.status, 200, res.body);
    assert.equal(lastUserText(await cloud.lastRequest()), 'Customer ****5678 wrote from [EMAIL]');
  });

  test('response rules apply to what the model writes', TIMEOUT, async () => {
    const text = 'Customer CUST-87654321 is waiting';
    const res = await post(gateway, '/v1/chat/completions', chatBody('local', text));
    assert.equal(res.status, 200, res.body);
    assert.equal(lastUserText(await local.lastRequest()), text, 'the self-hosted model gets the id');
    assert.equal(res.json.choices[0].message.content, 'Customer [CUSTOMER_ID] is waiting');
  });

  test('explain refuses an empty body with exit code 3', TIMEOUT, async () => {
    const explained = runCli(['explain', '--config', gateway.configFile]);
    assert.equal(explained.code, 3);
    assert.equal(JSON.parse(explained.stdout).error.code, 'invalid_json');
  });
});

describe('scan bounds fail closed and pseudonyms cannot be replayed', { timeout: 180_000 }, () => {
  let defaults; // the default bounds
  let lowered; // dlp.limits.max_matches_per_pattern: 50
  let local;
  let cloud;

  const emails = (count) => Array.from({ length: count }, (_, i) => `u${i}@example.com`).join(' ');

  before(async () => {
    [local, cloud] = await Promise.all([startMock('local3'), startMock('cloud3')]);
    await Promise.all([local.configure({ echo_chunk_bytes: 3 }), cloud.configure({ echo_chunk_bytes: 3 })]);
    const config = () => policy({
      backends: [
        backendFor('llama-local', local, { model: 'llama-3' }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external' }),
      ],
      tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
    });
    defaults = await startGateway(config());
    const capped = config();
    capped.dlp = { limits: { max_matches_per_pattern: 50 } };
    lowered = await startGateway(capped);
  });

  after(stopAll);

  test('more than 65,536 findings in one text: refused toward the external backend, naming the bound', TIMEOUT, async () => {
    const before = (await cloud.stats()).requests;
    const text = `Mail all of them: ${emails(65_536 + 64)}`;
    const res = await post(defaults, '/v1/chat/completions', chatBody('frontier', text));
    assert.equal(res.status, 403, res.body.slice(0, 500));
    const error = errorOf(res.json);
    assert.equal(error.code, 'policy_violation');
    assert.equal(error.message,
      'DLP scan limit reached (matches per pattern) in messages[0].content: request not sent to an external backend.');
    assert.equal((await cloud.stats()).requests, before, 'nothing reached the external backend');
  });

  test('a lowered bound (dlp.limits) is enforced the same way; a self-hosted backend may still serve the request', TIMEOUT, async () => {
    const before = (await cloud.stats()).requests;
    const text = emails(60);
    const refused = await post(lowered, '/v1/chat/completions', chatBody('frontier', text));
    assert.equal(refused.status, 403, refused.body);
    assert.match(errorOf(refused.json).message, /^DLP scan limit reached \(matches per pattern\)/);
    assert.equal((await cloud.stats()).requests, before, 'nothing reached the external backend');

    const served = await post(lowered, '/v1/chat/completions', chatBody('local', text));
    assert.equal(served.status, 200, served.body);
    assert.equal(lastUserText(await local.lastRequest()), text);

    const under = await post(lowered, '/v1/chat/completions', chatBody('frontier', emails(40)));
    assert.equal(under.status, 200, under.body);
    assert.equal((await cloud.stats()).requests, before + 1);
    assert.ok(!JSON.stringify(await cloud.lastRequest()).includes('@example.com'));

    const metrics = await scrapeMetrics(lowered);
    assert.ok(metricValue(metrics, 'switchyard_dlp_blocks_total', { rule: 'dlp.limits' }) >= 1);
  });

  test('a token-shaped string the client typed is never rewritten into a value', TIMEOUT, async () => {
    // The mock echoes the (pseudonymized) prompt; the gateway restores only its own tokens.
    const text = `Repeat <EMAIL_1>, <EMAIL_7Q2FX> and <EMAIL_00000> for ${EMAIL}.`;
    const res = await post(defaults, '/v1/chat/completions', chatBody('frontier', text));
    assert.equal(res.status, 200, res.body);
    const upstream = lastUserText(await cloud.lastRequest());
    assert.match(upstream, new RegExp(`^Repeat <EMAIL_1>, <EMAIL_7Q2FX> and <EMAIL_00000> for ${TOKEN}\\.$`));
    assert.equal(res.json.choices[0].message.content, text, 'the client gets exactly what it typed');
  });

  test('tokens differ from one request to the next', TIMEOUT, async () => {
    const tokens = new Set();
    for (let i = 0; i < 3; i += 1) {
      const res = await post(defaults, '/v1/chat/completions', chatBody('frontier', `Write to ${EMAIL}`));
      assert.equal(res.status, 200, res.body);
      tokens.add(lastUserText(await cloud.lastRequest()));
    }
    assert.equal(tokens.size, 3, [...tokens].join(', '));
  });
});
