// The Responses API's stored responses: GET/DELETE /v1/responses/{id} and POST .../cancel, in
// OpenAI's error shape, with the `openai` npm client and raw HTTP. A policy without
// `responses.store` answers 400; with it, ids are scoped to the key that stored them (another key
// gets 404 and never the content), the endpoint scope `responses` is enforced, cancel is a clear
// 400 (no background responses), and two gateway replicas over one Redis share the stored
// responses (a record stored through the Redis layout is read and deleted through either).
// Storing answers of POST /v1/responses and previous_response_id come with the inbound
// Responses surface (branch responses-in), not yet merged here.
// Needs /usr/bin/redis-server (scripts/install-deps installs it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import {
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
    socket.on('data', (d) => {
      text += d.toString('utf8');
      if (text.endsWith('\r\n')) {
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
      backends: [backendFor('local', mock)],
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
});
