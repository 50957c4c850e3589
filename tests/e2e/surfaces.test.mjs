// Parity across API surfaces: the same policy cases sent as OpenAI chat completions, as
// Anthropic Messages and as OpenAI Responses must end the same way (routing, DLP with pseudonyms
// restored mid-stream, blocks, budgets, fallback that never widens exposure), each answered in
// its own surface's wire format. Raw HTTP, so every surface is driven the same way; the official
// SDKs are in anthropic.test.mjs, chat.test.mjs and responses.test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  backendFor,
  closedPort,
  errorOf,
  policy,
  post,
  sseData,
  startGateway,
  startMock,
  stopAll,
  mintKey,
  CARD,
  EMAIL,
  GITHUB_TOKEN,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };

// Anthropic-style SSE: [{event, data}] per blank-line-separated event.
function sseEvents(text) {
  return text.split(/\r?\n\r?\n/).filter((block) => block.trim()).map((block) => {
    const event = { event: '', data: '' };
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event.event = line.slice(6).trim();
      if (line.startsWith('data:')) event.data += line.slice(5).trim();
    }
    return event;
  });
}

// Each surface: how to send one prompt, and how to read the answer back.
const SURFACES = {
  openai: {
    send(gateway, key, model, text, { stream = false } = {}) {
      return post(gateway, '/v1/chat/completions',
        { model, messages: [{ role: 'user', content: text }], max_tokens: 200, stream },
        { headers: { authorization: `Bearer ${key}` } });
    },
    text(res, stream) {
      if (!stream) return res.json.choices[0].message.content;
      return sseData(res.body).filter((d) => d !== '[DONE]').map(JSON.parse)
        .map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
    },
    error(res) {
      const error = errorOf(res.json);
      return { type: error.type, message: error.message };
    },
  },
  anthropic: {
    send(gateway, key, model, text, { stream = false } = {}) {
      return post(gateway, '/v1/messages',
        { model, max_tokens: 200, messages: [{ role: 'user', content: text }], stream },
        { headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } });
    },
    text(res, stream) {
      if (!stream) {
        assert.equal(res.json.type, 'message', res.body);
        return res.json.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
      }
      const events = sseEvents(res.body);
      assert.equal(events[0].event, 'message_start', res.body);
      assert.equal(events.at(-1).event, 'message_stop', res.body);
      return events.filter((e) => e.event === 'content_block_delta')
        .map((e) => JSON.parse(e.data).delta.text ?? '').join('');
    },
    error(res) {
      assert.equal(res.json?.type, 'error', res.body);
      return { type: res.json.error.type, message: res.json.error.message };
    },
  },
  responses: {
    send(gateway, key, model, text, { stream = false } = {}) {
      return post(gateway, '/v1/responses',
        { model, input: text, max_output_tokens: 200, stream },
        { headers: { authorization: `Bearer ${key}` } });
    },
    text(res, stream) {
      if (!stream) {
        assert.equal(res.json.object, 'response', res.body);
        return res.json.output.filter((item) => item.type === 'message')
          .flatMap((item) => item.content).map((part) => part.text).join('');
      }
      const events = sseEvents(res.body);
      assert.equal(events[0].event, 'response.created', res.body);
      assert.equal(events.at(-1).event, 'response.completed', res.body);
      events.forEach((e, i) => assert.equal(JSON.parse(e.data).sequence_number, i));
      return events.filter((e) => e.event === 'response.output_text.delta')
        .map((e) => JSON.parse(e.data).delta).join('');
    },
    error(res) {
      const error = errorOf(res.json);
      return { type: error.type, message: error.message };
    },
  },
};

// Each surface against an OpenAI-compatible frontier backend; Anthropic clients also against an
// Anthropic one and Responses clients against one serving /v1/responses, where their requests
// pass through as sent (DLP applied to the client's body).
const COMBINATIONS = [
  ['openai', 'openai'],
  ['anthropic', 'openai'],
  ['anthropic', 'anthropic'],
  ['responses', 'openai'],
  ['responses', 'anthropic'],
  ['responses', 'responses'],  // a backend serving /v1/responses: the Responses body passes through
];

for (const [surface, frontier] of COMBINATIONS) {
  const api = SURFACES[surface];
  const cloudKind = frontier === 'anthropic' ? { kind: 'anthropic' }
    : frontier === 'responses' ? { api: 'responses' } : {};
  describe(`one policy on the ${surface} surface, ${frontier} frontier`, { timeout: 300_000 }, () => {
    let gateway;
    let local;
    let cloud;
    let keys;

    before(async () => {
      [local, cloud] = await Promise.all([startMock('local'), startMock('cloud')]);
      // The mocks echo the prompt one byte per SSE event: a pseudonym is split at every byte.
      await Promise.all([local.configure({ echo_chunk_bytes: 1 }), cloud.configure({ echo_chunk_bytes: 1 })]);
      keys = { eng: mintKey('eng-key', 'eng'), fin: mintKey('fin-key', 'fin') };
      const config = policy({
        backends: [
          backendFor('llama-local', local, { model: 'llama-3', cost: { input_per_mtok: 1000, output_per_mtok: 1000 } }),
          { ...backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external' }), ...cloudKind },
        ],
        tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
        teams: { fin: { limits: { budget_usd: { day: 0.01 } } } },
        keys: [
          { id: 'eng-key', hash: keys.eng.hash, team: 'eng' },
          { id: 'fin-key', hash: keys.fin.hash, team: 'fin' },
        ],
      });
      config.limits = { default_max_tokens: 50 };
      config.dlp = {
        actions: [
          { name: 'secrets-never-leave', detectors: ['secrets'], destination: 'external', action: 'block' },
          { name: 'confidential-pseudonymized', level: 'confidential', destination: 'external', action: 'pseudonymize' },
        ],
      };
      config.routing = [
        { name: 'restricted-stays-home', when: { detectors: ['credit_card'] }, route: 'local' },
      ];
      gateway = await startGateway(config);
    });

    after(stopAll);

    test('a card keeps a frontier request on the self-hosted backend', TIMEOUT, async () => {
      const before = (await cloud.stats()).requests;
      const res = await api.send(gateway, keys.eng.key, 'frontier', `Charge ${CARD} please`);
      assert.equal(res.status, 200, res.body);
      assert.match(res.headers['x-switchyard-route'], /backend=llama-local; .*rule=restricted-stays-home/);
      assert.equal(api.text(res, false), `Charge ${CARD} please`);
      assert.equal((await cloud.stats()).requests, before, 'the external mock never saw it');
    });

    test('an e-mail leaves pseudonymized and comes back restored in a stream split at every byte', TIMEOUT, async () => {
      const text = `Write to ${EMAIL} today.`;
      const res = await api.send(gateway, keys.eng.key, 'frontier', text, { stream: true });
      assert.equal(res.status, 200, res.body);
      const upstream = await cloud.lastRequest();
      // A string, or Anthropic text blocks; a passed-through Responses body's `input` string.
      const content = upstream.input ?? upstream.messages.at(-1).content;
      const sent = typeof content === 'string' ? content : content.map((block) => block.text).join('');
      assert.match(sent, /^Write to <EMAIL_[0-9A-HJKMNP-TV-Z]{5}> today\.$/);
      assert.equal(api.text(res, true), text);
      assert.ok(!res.body.includes('<EMAIL'), 'no pseudonym reaches the client');
    });

    test('a secret is refused with 403 in the surface\'s error shape, naming the rule and never the value', TIMEOUT, async () => {
      const before = (await cloud.stats()).requests;
      const res = await api.send(gateway, keys.eng.key, 'frontier', `token ${GITHUB_TOKEN}`);
      assert.equal(res.status, 403, res.body);
      const error = api.error(res);
      assert.equal(error.type, 'permission_error');
      assert.match(error.message, /secrets-never-leave/);
      assert.ok(!res.body.includes(GITHUB_TOKEN.slice(4)), res.body);
      assert.equal((await cloud.stats()).requests, before);
    });

    test('a spent budget is a 429 with Retry-After in the surface\'s error shape', TIMEOUT, async () => {
      const res = await api.send(gateway, keys.fin.key, 'local', 'hello');
      assert.equal(res.status, 429, res.body);
      assert.ok(Number(res.headers['retry-after']) >= 1);
      const error = api.error(res);
      assert.equal(error.type, 'rate_limit_error');
      assert.match(error.message, /Budget exhausted for team 'fin'/);
    });

    test('an unknown path is answered after authentication, in the surface\'s error shape', TIMEOUT, async () => {
      const path = surface === 'anthropic' ? '/v1/messages/batches' : '/v1/no-such-thing';
      const headers = surface === 'anthropic' ? { 'anthropic-version': '2023-06-01' } : {};
      const anonymous = await post(gateway, path, {}, { headers });
      assert.equal(anonymous.status, 401, anonymous.body);
      assert.equal(api.error(anonymous).type, 'authentication_error');
      const keyed = await post(gateway, path, {}, {
        headers: { ...headers, authorization: `Bearer ${keys.eng.key}` },
      });
      assert.equal(keyed.status, 404, keyed.body);
      assert.equal(api.error(keyed).type, surface === 'anthropic' ? 'not_found_error' : 'invalid_request_error');
    });
  });

  describe(`fallback never widens exposure on the ${surface} surface, ${frontier} frontier`, { timeout: 120_000 }, () => {
    let gateway;
    let cloud;
    let key;

    before(async () => {
      cloud = await startMock('cloud');
      key = mintKey('k');
      const config = policy({
        backends: [
          { name: 'llama-local', kind: 'openai', url: `http://127.0.0.1:${await closedPort()}`, model: 'llama-3',
            location: 'self-hosted', health_check: false },
          { ...backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external' }), ...cloudKind },
        ],
        tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
        keys: [{ id: 'k', hash: key.hash }],
      });
      config.routing = [{ name: 'restricted-stays-home', when: { sensitivity: '>= restricted' }, route: 'local' }];
      gateway = await startGateway(config);
    });

    after(stopAll);

    test('a restricted request with every self-hosted backend down is a 503 and the frontier never sees it', TIMEOUT, async () => {
      const res = await api.send(gateway, key.key, 'frontier', `Card ${CARD}`);
      assert.equal(res.status, 503, res.body);
      assert.ok(!res.body.includes('1111'), res.body);
      assert.equal((await cloud.stats()).requests, 0);
    });
  });
}
