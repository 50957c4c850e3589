// Credentials (client keys stay at the gateway, upstream keys come from the environment), TLS
// termination (TLS 1.2+ only) and verified HTTPS upstreams (CA, chain, host name).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';

import {
  HOST,
  backendFor,
  chatBody,
  curl,
  curlRequest,
  errorOf,
  makeSelfSignedCert,
  makeTempDir,
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
  waitFor,
  writeConfig,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const UPSTREAM_KEY = 'sk-upstream-e2e-7f3a9c';
const CLIENT_KEY = 'sk-client-e2e-1b2d4e';
const CLIENT_API_KEY = 'client-x-api-key-5c6d';

describe('credentials', { timeout: 300_000 }, () => {
  let gateway;
  let open;
  let keyed;

  before(async () => {
    [open, keyed] = await Promise.all([
      startMock('open'),
      startMock('keyed', ['--require-key', UPSTREAM_KEY]),
    ]);
    gateway = await startGateway(policy({
      backends: [
        backendFor('open-b', open),
        backendFor('keyed-b', keyed, { api_key_env: 'SY_E2E_UPSTREAM_KEY', location: 'external' }),
        backendFor('keyless-b', keyed),
      ],
      tiers: { local: { backends: ['open-b'] } },
      models: { keyed: { backend: 'keyed-b' }, keyless: { backend: 'keyless-b' } },
    }), { env: { SY_E2E_UPSTREAM_KEY: UPSTREAM_KEY } });
  });

  after(stopAll);

  const clientHeaders = {
    authorization: `Bearer ${CLIENT_KEY}`,
    'x-api-key': CLIENT_API_KEY,
    'api-key': CLIENT_API_KEY,
  };

  function assertNoClientSecret(headers) {
    assert.equal(headers.authorization, undefined, 'authorization forwarded');
    assert.equal(headers['x-api-key'], undefined, 'x-api-key forwarded');
    const all = JSON.stringify(headers);
    assert.ok(!all.includes(CLIENT_KEY) && !all.includes(CLIENT_API_KEY), `a client secret reached the upstream: ${all}`);
  }

  test("the client's Authorization and x-api-key headers never reach the upstream", TIMEOUT, async () => {
    for (const [p, body] of [
      ['/v1/chat/completions', chatBody('auto')],
      ['/v1/chat/completions', chatBody('auto', 'streamed', { stream: true })],
      ['/v1/embeddings', { model: 'auto', input: 'embed me' }],
    ]) {
      const res = await post(gateway, p, body, { headers: clientHeaders });
      assert.equal(res.status, 200, res.body);
      assertNoClientSecret(await open.lastRequestHeaders());
    }
    // The openai client sends its apiKey as a bearer token.
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 30_000 });
    await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
    assertNoClientSecret(await open.lastRequestHeaders());
  });

  test("the upstream receives the backend's key from api_key_env as a bearer token", TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions', chatBody('keyed'), { headers: clientHeaders });
    assert.equal(res.status, 200, res.body);
    assert.match(res.json.choices[0].message.content, /^Hello from keyed\./);
    const headers = await keyed.lastRequestHeaders();
    assert.equal(headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.equal(headers['x-api-key'], undefined);

    const stream = await post(gateway, '/v1/chat/completions', chatBody('keyed', 'hi', { stream: true }));
    assert.equal(stream.status, 200);
    assert.equal(sseData(stream.body).at(-1), '[DONE]');
    const embed = await post(gateway, '/v1/embeddings', { model: 'keyed', input: 'x' });
    assert.equal(embed.status, 200, embed.body);
  });

  test('a client that knows the upstream key still cannot pass it through', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions', chatBody('keyless'), {
      headers: { authorization: `Bearer ${UPSTREAM_KEY}`, 'x-api-key': UPSTREAM_KEY },
    });
    assert.notEqual(res.status, 200, 'the upstream accepted a key only the client had sent');
    const headers = await keyed.lastRequestHeaders();
    assert.equal(headers.authorization, undefined);
    assert.equal(headers['x-api-key'], undefined);
  });

  test('the upstream key appears in no response and no log line', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions', chatBody('keyed'));
    assert.ok(!JSON.stringify(res.headers).includes(UPSTREAM_KEY));
    assert.ok(!res.body.includes(UPSTREAM_KEY));
    assert.ok(!gateway.proc.stderr.includes(UPSTREAM_KEY), 'the upstream key was logged');
    const metrics = await scrapeMetrics(gateway);
    assert.ok(!metrics.includes(UPSTREAM_KEY));
  });

  test('startup fails when api_key_env names an unset variable', TIMEOUT, async () => {
    const dir = makeTempDir();
    const file = writeConfig(dir, policy({
      backends: [backendFor('keyed-b', keyed, { api_key_env: 'SY_E2E_SURELY_UNSET_KEY' })],
      tiers: { local: { backends: ['keyed-b'] } },
    }));
    const env = { ...process.env };
    delete env.SY_E2E_SURELY_UNSET_KEY;
    const result = runCli(['serve', '--config', file], { env });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /SY_E2E_SURELY_UNSET_KEY/);
    assert.ok(result.stderr.includes(file), 'the error names the file');
    assert.doesNotMatch(result.stderr, /"msg":"listening"/);
  });
});

describe('TLS termination', { timeout: 300_000 }, () => {
  let gateway;
  let cert;
  let dir;

  before(async () => {
    dir = makeTempDir();
    cert = makeSelfSignedCert(dir, { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
    const mock = await startMock('alpha');
    gateway = await startGateway(policy({
      backends: [backendFor('local-a', mock, { model: 'llama-3.1-8b' })],
      tiers: { local: { backends: ['local-a'] } },
      server: { tls: { cert: cert.cert, key: cert.key } },
    }), { dir, tls: true });
  });

  after(stopAll);

  const httpsUrl = (p) => `https://localhost:${gateway.port}${p}`;
  const resolve = () => ['--resolve', `localhost:${gateway.port}:${HOST}`];

  test('curl with the CA certificate gets answers over https', TIMEOUT, async () => {
    const models = await curlRequest(httpsUrl('/v1/models'), { extra: ['--cacert', cert.cert, ...resolve()] });
    assert.equal(models.code, 0, models.stderr);
    assert.equal(models.status, 200);
    assert.ok(models.json.data.some((m) => m.id === 'auto'));
    const chat = await curlRequest(httpsUrl('/v1/chat/completions'), {
      body: chatBody('auto'),
      extra: ['--cacert', cert.cert, ...resolve()],
    });
    assert.equal(chat.status, 200, chat.body);
    assert.equal(chat.headers['x-switchyard-route'], 'tier=local; backend=local-a; model=llama-3.1-8b; rule=default');
    assert.match(chat.json.choices[0].message.content, /^Hello from alpha\./);
    // By IP address too (the certificate names 127.0.0.1).
    const byIp = await curlRequest(`https://${HOST}:${gateway.port}/v1/models`, { extra: ['--cacert', cert.cert] });
    assert.equal(byIp.status, 200, byIp.stderr);
  });

  test('curl without the CA certificate refuses the self-signed certificate', TIMEOUT, async () => {
    const res = await curl(['-sS', '-o', '/dev/null', ...resolve(), httpsUrl('/v1/models')]);
    assert.equal(res.code, 60, res.stderr);
  });

  test('the openai client streams over https', TIMEOUT, async () => {
    const client = new OpenAI({
      baseURL: `https://localhost:${gateway.port}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      timeout: 30_000,
      httpAgent: new https.Agent({ ca: fs.readFileSync(cert.cert), lookup: (host, opts, cb) => cb(null, opts.all ? [{ address: HOST, family: 4 }] : HOST, 4) }),
    });
    let text = '';
    const stream = await client.chat.completions.create({
      model: 'auto', messages: [{ role: 'user', content: 'mock:reply_tokens=5' }], stream: true,
    });
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'Hello from alpha. lorem ipsum');
  });

  test('TLS 1.2 and TLS 1.3 handshakes succeed', TIMEOUT, async () => {
    for (const version of ['1.2', '1.3']) {
      const res = await curlRequest(httpsUrl('/v1/models'), {
        extra: ['--cacert', cert.cert, ...resolve(), `--tlsv${version}`, '--tls-max', version],
      });
      assert.equal(res.code, 0, `TLS ${version}: ${res.stderr}`);
      assert.equal(res.status, 200);
    }
  });

  test('TLS 1.1 is refused by the gateway', TIMEOUT, async () => {
    const before = metricValue(await scrapeMetrics(gateway), 'switchyard_downstream_rejections_total', { reason: 'tls_handshake' });
    // SECLEVEL=0 lets our own OpenSSL offer TLS 1.1, so the refusal has to come from the server.
    const res = await curl(['-sS', '-o', '/dev/null', '--cacert', cert.cert, ...resolve(),
      '--tlsv1.1', '--tls-max', '1.1', '--ciphers', 'DEFAULT@SECLEVEL=0', httpsUrl('/v1/models')]);
    assert.notEqual(res.code, 0, 'curl got through with TLS 1.1');
    assert.equal(res.code, 35, res.stderr);
    assert.match(res.stderr, /alert protocol version|unsupported protocol|wrong version number/i);

    const err = await new Promise((resolveErr) => {
      const socket = tls.connect({
        host: HOST,
        port: gateway.port,
        servername: 'localhost',
        ca: cert.cert,
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
      socket.once('secureConnect', () => {
        socket.destroy();
        resolveErr(null);
      });
      socket.once('error', resolveErr);
    });
    assert.ok(err, 'node negotiated TLS 1.1 with the gateway');
    assert.match(`${err.code} ${err.message}`, /PROTOCOL_VERSION|protocol version|unsupported protocol/i);
    await waitFor(async () => metricValue(await scrapeMetrics(gateway), 'switchyard_downstream_rejections_total',
      { reason: 'tls_handshake' }) >= before + 2, { what: 'tls_handshake rejections counted' });
  });

  test('plain HTTP on the TLS port gets no HTTP answer and the gateway keeps serving', TIMEOUT, async () => {
    const outcome = await new Promise((resolveOutcome) => {
      const req = http.request({ host: HOST, port: gateway.port, path: '/v1/models', agent: false, timeout: 10_000 });
      req.on('response', (res) => resolveOutcome(`status ${res.statusCode}`));
      req.on('error', (e) => resolveOutcome(`error ${e.code ?? e.message}`));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
    assert.match(outcome, /^error/);
    const ok = await request({ port: gateway.port, path: '/v1/models', tls: true, ca: cert.cert, servername: 'localhost' });
    assert.equal(ok.status, 200);
  });
});

describe('HTTPS upstreams', { timeout: 300_000 }, () => {
  let gateway;
  let secure;
  let wrongName;

  before(async () => {
    const dir = makeTempDir();
    const local = makeSelfSignedCert(dir, { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
    const other = makeSelfSignedCert(dir, { cn: 'otherhost', san: 'DNS:otherhost,IP:127.0.0.1' });
    [secure, wrongName] = await Promise.all([
      startMock('secure', ['--tls-cert', local.cert, '--tls-key', local.key]),
      startMock('wrongname', ['--tls-cert', other.cert, '--tls-key', other.key]),
    ]);
    assert.equal(secure.tls, true);
    gateway = await startGateway(policy({
      backends: [
        backendFor('tls-ok', secure.backendUrl('localhost'), { model: 'secure-model', ca_file: local.cert }),
        backendFor('tls-no-ca', secure.backendUrl('localhost'), { model: 'secure-model' }),
        backendFor('tls-wrong-name', wrongName.backendUrl('localhost'), { model: 'other-model', ca_file: other.cert }),
        backendFor('tls-right-name', wrongName.backendUrl(HOST), { model: 'other-model', ca_file: other.cert }),
      ],
      tiers: { secure: { backends: ['tls-ok'] } },
      models: {
        'no-ca': { backend: 'tls-no-ca' },
        'wrong-name': { backend: 'tls-wrong-name' },
        'right-name': { backend: 'tls-right-name' },
      },
    }), { dir });
  });

  after(stopAll);

  test('an https backend whose certificate is trusted through ca_file answers', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions', chatBody('auto'));
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['x-switchyard-route'], 'tier=secure; backend=tls-ok; model=secure-model; rule=default');
    assert.match(res.json.choices[0].message.content, /^Hello from secure\./);
    const stream = await post(gateway, '/v1/chat/completions', chatBody('auto', 'mock:reply_tokens=3', { stream: true }));
    assert.equal(stream.status, 200);
    assert.equal(sseData(stream.body).at(-1), '[DONE]');
    const headers = await secure.lastRequestHeaders();
    assert.match(headers.host, /^localhost:\d+$/);
  });

  test('an https backend not trusted by the system store is a 502 naming the certificate problem', TIMEOUT, async () => {
    const res = await post(gateway, '/v1/chat/completions', chatBody('no-ca'));
    assert.equal(res.status, 502, res.body);
    const error = errorOf(res.json);
    assert.match(error.code, /^upstream_/);
    assert.match(error.message, /TLS|certificate/i);
  });

  test('a certificate for another host name is a 502 even when its CA is trusted', TIMEOUT, async () => {
    // Control: the same server and CA, dialed by a name the certificate does carry.
    const control = await post(gateway, '/v1/chat/completions', chatBody('right-name'));
    assert.equal(control.status, 200, control.body);
    assert.match(control.json.choices[0].message.content, /^Hello from wrongname\./);

    const res = await post(gateway, '/v1/chat/completions', chatBody('wrong-name'));
    assert.equal(res.status, 502, res.body);
    const error = errorOf(res.json);
    assert.match(error.code, /^upstream_/);
    assert.match(error.message, /TLS|certificate/i);
  });
});
