// The Responses API's stored responses: GET/DELETE /v1/responses/{id} and POST .../cancel, in
// OpenAI's error shape, with the `openai` npm client and raw HTTP. A policy without
// `responses.store` answers 400; with it, ids are scoped to the key that stored them (another key
// gets 404 and never the content), the endpoint scope `responses` is enforced, cancel is a clear
// 400 (no background responses), and two gateway replicas over one Redis share the stored
// responses (a record stored through the Redis layout is read and deleted through either).
// Conversations: `responses.create` stores its answer (store: true in the answer) and a follow-up
// with `previous_response_id` (streamed and not) sends the earlier turns to the backend (read
// back from /mock/last-request); GET returns the stored response as the client received it;
// another key's follow-up is a 404 that never carries the content, and nothing leaves; a card in
// turn 1 keeps turn 2 on the self-hosted backend; a stored answer holds what the client saw
// (pseudonyms restored) and its follow-up leaves pseudonymized again; the client's store: false is
// honoured; a policy without the store answers previous_response_id with a 400. The backends
// declare `api: chat`, so what left is read as chat messages (pass-through to Responses backends
// is responses_backend.test.mjs). Over SQLite (one gateway) and
// Redis (a conversation stored through one replica continues on the other; the record's layout).
// Needs /usr/bin/redis-server (scripts/install-deps installs it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import {
  CARD,
  EMAIL,
  HOST,
  backendFor,
  closedPort,
  errorOf,
  makeTempDir,
  mintKey,
  policy,
  request,
  spawnTracked,
  startGateway,
  startMock,
  stopAll,
  waitFor,
} from './lib/harness.mjs';

const REDIS_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));

// One RESP command on a fresh connection; resolves the raw reply text.
function redisCommand(port, args) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('redis command timed out'));
    }, 5000);
    socket.on('connect', () => {
      let out = `*${args.length}\r\n`;
      for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
      socket.write(out);
    });
    // Complete once the reply is: a bulk string when its announced length has arrived (it may
    // come in several pieces), any other reply at its line end.
    const complete = () => {
      const bulk = /^\$(\d+)\r\n/.exec(text);
      return bulk ? Buffer.byteLength(text) >= bulk[0].length + Number(bulk[1]) + 2 : text.endsWith('\r\n');
    };
    socket.on('data', (d) => {
      text += d.toString('utf8');
      if (complete()) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function startRedis(port, dir) {
  assert.ok(REDIS_BIN, 'redis-server not found: scripts/install-deps installs it');
  const proc = spawnTracked(REDIS_BIN, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir]);
  await waitFor(async () => {
    if (proc.exitInfo) throw new Error(`redis-server exited: ${proc.stdout}${proc.stderr}`);
    return (await redisCommand(port, ['PING']).catch(() => '')).startsWith('+PONG');
  }, { timeoutMs: 10_000, what: 'redis-server to answer PING' });
  return proc;
}

// A response object as it was on the wire: the SDK adds `output_text`, computed from `output`.
function wire(response) {
  const { output_text: _computed, ...rest } = JSON.parse(JSON.stringify(response));
  return rest;
}

const client = (gateway, key) => new OpenAI({ apiKey: key, baseURL: `http://${HOST}:${gateway.port}/v1`, maxRetries: 0 });

function keyEntry(id, minted, allow) {
  return { id, hash: minted.hash, ...(allow ? { allow } : {}) };
}

// The error an openai client call rejected with: its status and OpenAI error body.
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('the call succeeded');
}

describe('stored responses', { timeout: 60_000 }, () => {
  let mock;
  let alice;
  let bob;
  let chatOnly;
  let redisPort;
  let noStore;
  let replicas;

  const configFor = (responses, state) => {
    const config = policy({
      backends: [backendFor('local', mock, { api: 'chat' })],
      tiers: { local: { backends: ['local'] } },
      keys: [keyEntry('alice', alice), keyEntry('bob', bob), keyEntry('chat-only', chatOnly, { endpoints: ['chat'] })],
    });
    if (responses) config.responses = responses;
    if (state) config.state = state;
    return config;
  };

  before(async () => {
    alice = mintKey('alice');
    bob = mintKey('bob');
    chatOnly = mintKey('chat-only');
    redisPort = await closedPort();
    let redis;
    [redis, mock] = await Promise.all([startRedis(redisPort, makeTempDir('sy-redis-')), startMock('responses-store')]);
    assert.ok(redis);
    noStore = await startGateway(configFor(undefined));
    const shared = { store: 'redis', redis: { url: `redis://${HOST}:${redisPort}/0`, timeout: '1s' } };
    replicas = await Promise.all([0, 1].map(() => startGateway(configFor({ store: true, ttl: '1h' }, shared))));
  });

  after(stopAll);

  test('a policy without responses.store answers 400 on GET and DELETE', async () => {
    for (const call of [(c) => c.responses.retrieve('resp_abc'), (c) => c.responses.del('resp_abc')]) {
      const err = await rejection(call(client(noStore, alice.key)));
      assert.equal(err.status, 400);
      assert.equal(err.error.code, 'response_store_disabled');
      assert.match(err.error.message, /does not store responses/);
    }
  });

  test('an unknown id is a 404 in OpenAI error shape', async () => {
    const res = await request({ port: replicas[0].port, path: '/v1/responses/resp_missing', headers: { authorization: `Bearer ${alice.key}` } });
    assert.equal(res.status, 404);
    const error = errorOf(res.json);
    assert.equal(error.code, 'response_not_found');
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.message, "Response with id 'resp_missing' not found.");
    const odd = await request({ port: replicas[0].port, path: '/v1/responses/%3Cscript%3E', headers: { authorization: `Bearer ${alice.key}` } });
    assert.equal(odd.status, 404);
    assert.equal(errorOf(odd.json).message, 'Response not found.'); // never echoes what is not an id
    const deleted = await rejection(client(replicas[0], alice.key).responses.del('resp_missing'));
    assert.equal(deleted.status, 404);
  });

  test('cancel is a clear 400, other methods a 405, and the key needs the responses scope', async () => {
    const err = await rejection(client(replicas[0], alice.key).responses.cancel('resp_abc'));
    assert.equal(err.status, 400);
    assert.equal(err.error.code, 'background_not_supported');
    const put = await request({ port: replicas[0].port, method: 'PUT', path: '/v1/responses/resp_abc', headers: { authorization: `Bearer ${alice.key}` } });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, HEAD, DELETE');
    const scoped = await rejection(client(replicas[0], chatOnly.key).responses.retrieve('resp_abc'));
    assert.equal(scoped.status, 403);
    const anonymous = await request({ port: replicas[0].port, path: '/v1/responses/resp_abc' });
    assert.equal(anonymous.status, 401);
  });

  test('two replicas over one Redis share stored responses, scoped to the key', async () => {
    // A record as the gateway stores it (redis_response_store.cc): alice's, under her key id.
    const stored = { id: 'resp_shared1', object: 'response', status: 'completed', output_text: 'the secret plan is 42' };
    const record = JSON.stringify({ response: stored, items: [] });
    const key = 'sy:resp:{alice}:resp_shared1';
    assert.equal(await redisCommand(redisPort, ['HSET', key, 'created', String(Date.now()), 'body', record]), ':2\r\n');
    assert.equal(await redisCommand(redisPort, ['PEXPIRE', key, '60000']), ':1\r\n');

    for (const gateway of replicas) {
      const got = await client(gateway, alice.key).responses.retrieve('resp_shared1');
      assert.deepEqual({ ...got }, stored);
    }
    // Bob asks for alice's id: a 404 like any unknown id, and never the content.
    const res = await request({ port: replicas[1].port, path: '/v1/responses/resp_shared1', headers: { authorization: `Bearer ${bob.key}` } });
    assert.equal(res.status, 404);
    assert.ok(!res.body.includes('secret plan'));
    const bobDelete = await rejection(client(replicas[1], bob.key).responses.del('resp_shared1'));
    assert.equal(bobDelete.status, 404);

    // Deleted through one replica, gone on the other.
    const raw = await request({ port: replicas[1].port, method: 'DELETE', path: '/v1/responses/resp_shared1', headers: { authorization: `Bearer ${alice.key}` } });
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json, { id: 'resp_shared1', object: 'response', deleted: true });
    const gone = await rejection(client(replicas[0], alice.key).responses.retrieve('resp_shared1'));
    assert.equal(gone.status, 404);
  });

  test('a policy without responses.store answers previous_response_id with a 400', async () => {
    const err = await rejection(client(noStore, alice.key).responses.create({ model: 'auto', input: 'more', previous_response_id: 'resp_abc' }));
    assert.equal(err.status, 400);
    assert.equal(err.error.code, 'response_store_disabled');
    assert.equal(err.error.param, 'previous_response_id');
    const plain = await client(noStore, alice.key).responses.create({ model: 'auto', input: 'hi' });
    assert.equal(plain.store, false, 'nothing is stored, and the answer says so');
  });

  test('a conversation stored through one replica continues on the other, in the Redis layout', async () => {
    const first = await client(replicas[0], alice.key).responses.create({ model: 'auto', input: 'Remember the number 7.' });
    assert.equal(first.store, true);
    // The record is written once the answer has gone out: wait for it ($-1 is a missing field).
    let record = '';
    await waitFor(async () => {
      record = await redisCommand(redisPort, ['HGET', `sy:resp:{alice}:${first.id}`, 'body']);
      return !record.startsWith('$-1');
    }, { what: 'the stored record in Redis' });
    const stored = JSON.parse(record.slice(record.indexOf('\r\n') + 2, -2));
    assert.deepEqual(stored.response, wire(first));
    assert.deepEqual(stored.items, [
      { type: 'message', role: 'user', content: 'Remember the number 7.' },
      first.output[0],
    ]);
    const index = await redisCommand(redisPort, ['ZRANGE', 'sy:resp:{alice}', '0', '-1']);
    assert.ok(index.includes(first.id), 'the per-key index holds the id');

    const next = await client(replicas[1], alice.key).responses.create({ model: 'auto', input: 'Which number?', previous_response_id: first.id });
    assert.equal(next.previous_response_id, first.id);
    assert.deepEqual((await mock.lastRequest()).messages, [
      { role: 'user', content: 'Remember the number 7.' },
      { role: 'assistant', content: first.output_text },
      { role: 'user', content: 'Which number?' },
    ]);
    const bobs = await request({
      port: replicas[1].port, method: 'POST', path: '/v1/responses',
      headers: { authorization: `Bearer ${bob.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'auto', input: 'Which number?', previous_response_id: first.id }),
    });
    assert.equal(bobs.status, 404);
    assert.ok(!bobs.body.includes('Remember'), 'never the content');
  });
});

describe('conversations over the SQLite store', { timeout: 120_000 }, () => {
  let local;
  let cloud;
  let gateway;
  let alice;
  let bob;

  before(async () => {
    alice = mintKey('alice');
    bob = mintKey('bob');
    [local, cloud] = await Promise.all([startMock('local'), startMock('cloud')]);
    const config = policy({
      backends: [backendFor('home', local, { api: 'chat' }), backendFor('cloud', cloud, { location: 'external', api: 'chat' })],
      tiers: { local: { backends: ['home'] }, frontier: { backends: ['cloud'] } },
      keys: [keyEntry('alice', alice), keyEntry('bob', bob)],
    });
    config.routing = [
      { name: 'cards-stay-home', when: { detectors: ['credit_card'] }, route: 'local' },
      { name: 'default', route: 'frontier' },
    ];
    config.responses = { store: true, ttl: '1h' };
    config.dlp = {
      actions: [{ name: 'pii-pseudonymized', level: 'confidential', destination: 'external', action: 'pseudonymize' }],
    };
    config.state = { store: 'sqlite', sqlite: { path: path.join(makeTempDir('sy-conv-'), 'state.db') } };
    gateway = await startGateway(config);
  });

  after(stopAll);

  test('a follow-up sends the earlier turns, and GET returns the response as the client received it', async () => {
    const openai = client(gateway, alice.key);
    const first = await openai.responses.create({ model: 'auto', instructions: 'Be brief.', input: 'My name is Ada.' });
    assert.equal(first.status, 'completed');
    assert.equal(first.store, true, 'OpenAI\'s default: stored');
    const got = await openai.responses.retrieve(first.id);
    assert.deepEqual(wire(got), wire(first));

    const second = await openai.responses.create({ model: 'auto', input: [{ role: 'user', content: 'And my name?' }], previous_response_id: first.id });
    assert.equal(second.store, true);
    assert.equal(second.previous_response_id, first.id);
    assert.deepEqual((await cloud.lastRequest()).messages, [
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: first.output_text },
      { role: 'user', content: 'And my name?' },
    ], 'the earlier instructions are not carried over, as in OpenAI\'s API');

    // Three turns deep, streamed: the whole chain reaches the backend.
    const stream = await openai.responses.create({ model: 'auto', input: 'Thanks.', previous_response_id: second.id, stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    assert.equal(events[0].response.store, true);
    const done = events.at(-1);
    assert.equal(done.type, 'response.completed');
    assert.equal(done.response.store, true);
    const sent = await cloud.lastRequest();
    assert.deepEqual(sent.messages.map((m) => m.role), ['user', 'assistant', 'user', 'assistant', 'user']);
    assert.equal(sent.messages[4].content, 'Thanks.');
    const streamed = await openai.responses.retrieve(done.response.id);
    assert.deepEqual(wire(streamed), wire(done.response));

    // A streamed follow-up of the streamed answer.
    const again = await openai.responses.create({ model: 'auto', input: 'Bye.', previous_response_id: done.response.id, stream: true });
    let completed;
    for await (const event of again) if (event.type === 'response.completed') completed = event.response;
    assert.equal(completed.previous_response_id, done.response.id);
    assert.equal((await cloud.lastRequest()).messages.length, 7);
  });

  test('another key\'s follow-up is a 404 that never carries the content, and nothing leaves', async () => {
    const first = await client(gateway, alice.key).responses.create({ model: 'auto', input: 'The vault code is 1234.' });
    const before = (await cloud.stats()).requests + (await local.stats()).requests;
    for (const stream of [false, true]) {
      const err = await rejection(client(gateway, bob.key).responses.create({ model: 'auto', input: 'What code?', previous_response_id: first.id, stream }));
      assert.equal(err.status, 404);
      assert.equal(err.error.code, 'response_not_found');
      assert.equal(err.error.param, 'previous_response_id');
      assert.ok(!JSON.stringify(err.error).includes('vault'));
    }
    const retrieved = await rejection(client(gateway, bob.key).responses.retrieve(first.id));
    assert.equal(retrieved.status, 404);
    const unknown = await rejection(client(gateway, alice.key).responses.create({ model: 'auto', input: 'x', previous_response_id: 'resp_000000000000000000000000' }));
    assert.equal(unknown.status, 404);
    assert.equal((await cloud.stats()).requests + (await local.stats()).requests, before);
  });

  test('a card in turn 1 keeps turn 2 on the self-hosted backend', async () => {
    const openai = client(gateway, alice.key);
    const first = await openai.responses.create({ model: 'auto', input: `Charge ${CARD} for the order.` });
    const cloudBefore = (await cloud.stats()).requests;
    const { data, response } = await openai.responses.create({ model: 'auto', input: 'Is it done?', previous_response_id: first.id }).withResponse();
    assert.equal(data.status, 'completed');
    assert.match(response.headers.get('x-switchyard-route'), /backend=home; .*rule=cards-stay-home/);
    assert.equal((await cloud.stats()).requests, cloudBefore, 'the external backend never saw the conversation');
    assert.equal((await local.lastRequest()).messages[0].content, `Charge ${CARD} for the order.`);
  });

  test('a stored answer is what the client saw (pseudonyms restored), and its follow-up leaves pseudonymized again', async () => {
    const openai = client(gateway, alice.key);
    const text = (response) => response.output.filter((item) => item.type === 'message')
      .flatMap((item) => item.content).map((part) => part.text).join('');
    await cloud.configure({ echo_chunk_bytes: 3 });  // the answer echoes the prompt, 3 bytes an event
    try {
      for (const stream of [false, true]) {
        const prompt = `Write to ${EMAIL} today.`;
        let answer;
        if (stream) {
          for await (const event of await openai.responses.create({ model: 'auto', input: prompt, stream })) {
            if (event.type === 'response.completed') answer = event.response;
          }
        } else {
          answer = await openai.responses.create({ model: 'auto', input: prompt });
        }
        assert.ok(!JSON.stringify(await cloud.lastRequest()).includes(EMAIL), 'pseudonymized on the way out');
        assert.equal(text(answer), prompt, 'restored in the answer');
        const stored = await openai.responses.retrieve(answer.id);
        assert.deepEqual(wire(stored), wire(answer));
        assert.equal(text(stored), prompt, 'stored as the client received it');

        await openai.responses.create({ model: 'auto', input: 'Again.', previous_response_id: answer.id });
        const sent = JSON.stringify(await cloud.lastRequest());
        assert.ok(!sent.includes(EMAIL), `the stored turns leave pseudonymized again (stream: ${stream})`);
        assert.match(sent, /<EMAIL_[0-9A-HJKMNP-TV-Z]{5}>/);
      }
    } finally {
      await cloud.configure({ echo_chunk_bytes: 0 });
    }
  });

  test('the client\'s store: false is answered store: false and not kept', async () => {
    const openai = client(gateway, alice.key);
    const answer = await openai.responses.create({ model: 'auto', input: 'Forget this.', store: false });
    assert.equal(answer.store, false);
    assert.equal((await rejection(openai.responses.retrieve(answer.id))).status, 404);
    const followUp = await rejection(openai.responses.create({ model: 'auto', input: 'x', previous_response_id: answer.id }));
    assert.equal(followUp.status, 404);
  });
});
