// Hot reload under load: 50 SIGHUP reloads (two valid policies that route differently, and some
// invalid ones) during continuous mixed traffic, streams included, from several clients: no
// request fails, and each one was decided by exactly one whole policy version (its audit records
// name one version, and the route it got is that version's). Then server.watch_policy: an edit
// of the policy file or of an included one (in place or rename-over-write) reloads it, a broken
// edit is rejected, located in its file and counted, and each reload has its own audit record.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  REQUEST_ID_RE,
  backendFor,
  chatBody,
  makeTempDir,
  metricValue,
  policy,
  post,
  request,
  runCli,
  scrapeMetrics,
  sleep,
  startGateway,
  startMock,
  stopAll,
  toYaml,
  waitFor,
} from './lib/harness.mjs';

// What the gateway names a policy by: SHA-256 over each file's bytes, length-prefixed, in
// include order; the first 16 hex digits.
function policyVersion(...texts) {
  const hash = crypto.createHash('sha256');
  for (const text of texts) hash.update(`${Buffer.byteLength(text)}:${text}`);
  return hash.digest('hex').slice(0, 16);
}

const reloadsOf = (metrics, result, trigger) =>
  metricValue(metrics, 'switchyard_policy_reloads_total', { result, trigger });

const auditRecords = (file) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('50 reloads during mixed traffic', { timeout: 90_000 }, () => {
  let gateway;
  let dir;
  let auditPath;
  const texts = {};
  const expectedRoute = {};  // policy version -> x-switchyard-route

  before(async () => {
    const [alpha, beta] = await Promise.all([startMock('alpha'), startMock('beta')]);
    dir = makeTempDir();
    auditPath = path.join(dir, 'audit.jsonl');
    const base = policy({
      backends: [backendFor('alpha', alpha, { model: 'model-a' }), backendFor('beta', beta, { model: 'model-b' })],
      tiers: { one: { backends: ['alpha'] }, two: { backends: ['beta'] } },
      server: { workers: 2, watch_policy: false },
    });
    base.audit = { path: auditPath };
    const variant = (rule, tier) => `${toYaml({ ...base, routing: [{ name: rule, when: { models: ['auto'] }, route: tier }] })}\n`;
    texts.a = variant('rule-a', 'one');
    texts.b = variant('rule-b', 'two');
    texts.dangling = variant('rule-x', 'no-such-tier');
    texts.syntax = `${texts.a}routing: [\n`;
    expectedRoute[policyVersion(texts.a)] = 'tier=one; backend=alpha; model=model-a; rule=rule-a';
    expectedRoute[policyVersion(texts.b)] = 'tier=two; backend=beta; model=model-b; rule=rule-b';
    fs.writeFileSync(path.join(dir, 'switchyard.yaml'), texts.a);
    gateway = await startGateway({ file: path.join(dir, 'switchyard.yaml') }, { dir });
  });

  after(stopAll);

  test('no request fails and each is decided by one whole policy version', { timeout: 80_000 }, async (t) => {
    const started = await gateway.waitForLog((l) => l.msg === 'listening' && l.listener === 'data');
    assert.equal(started.policy_version, policyVersion(texts.a));

    let stop = false;
    const results = [];
    const client = async (c) => {
      for (let n = 0; !stop; ++n) {
        const stream = n % 2 === 1;
        const id = `c${c}-${n}`;
        const text = stream ? 'mock:reply_tokens=12 mock:tokens_per_sec=400' : 'Say hello.';
        const res = await post(gateway, '/v1/chat/completions', chatBody('auto', text, stream ? { stream: true } : {}), {
          headers: { 'x-request-id': id },
        }).catch((error) => ({ status: 0, error, headers: {}, body: '' }));
        results.push({ id, stream, res });
      }
    };
    const clients = [0, 1, 2, 3].map(client);

    const sequence = [];
    for (let i = 0; i < 50; ++i) {
      if (i % 7 === 6) sequence.push(i % 14 === 6 ? 'dangling' : 'syntax');
      else sequence.push(sequence.filter((s) => s === 'a' || s === 'b').length % 2 === 0 ? 'b' : 'a');
    }
    const okWanted = sequence.filter((s) => s === 'a' || s === 'b').length;
    for (const [i, which] of sequence.entries()) {
      const before = await scrapeMetrics(gateway);
      const attempts = reloadsOf(before, 'ok', 'signal') + reloadsOf(before, 'error', 'signal');
      fs.writeFileSync(gateway.configFile, texts[which]);
      gateway.signal('SIGHUP');
      await waitFor(async () => {
        const m = await scrapeMetrics(gateway);
        return reloadsOf(m, 'ok', 'signal') + reloadsOf(m, 'error', 'signal') === attempts + 1;
      }, { what: `reload ${i} (${which})` });
      await sleep(20 + (i % 3) * 20);  // let traffic run on this version
    }
    stop = true;
    await Promise.all(clients);

    const metrics = await scrapeMetrics(gateway);
    assert.equal(reloadsOf(metrics, 'ok', 'signal'), okWanted);
    assert.equal(reloadsOf(metrics, 'error', 'signal'), 50 - okWanted);
    assert.equal(reloadsOf(metrics, 'ok', 'file'), 0);

    const failed = results.filter(({ res, stream }) =>
      res.status !== 200 || (stream && !res.body.trimEnd().endsWith('data: [DONE]')));
    assert.deepEqual(failed.map(({ id, res }) => `${id}: ${res.status} ${res.error ?? res.body.slice(0, 200)}`), []);
    assert.ok(results.length >= 100, `only ${results.length} requests ran`);
    assert.ok(results.some((r) => r.stream), 'no stream ran');

    await gateway.stop();  // drains the audit writer
    const records = auditRecords(auditPath);
    const byRequest = new Map();
    for (const r of records.filter((x) => x.phase !== 'reload')) {
      assert.match(r.client_request_id, REQUEST_ID_RE);
      byRequest.set(r.client_request_id, [...(byRequest.get(r.client_request_id) ?? []), r]);
    }
    const seen = new Set();
    for (const { id, res } of results) {
      const own = byRequest.get(id) ?? [];
      assert.deepEqual(own.map((r) => r.phase), ['decision', 'completion'], `${id}'s audit records`);
      const versions = new Set(own.map((r) => r.policy_version));
      assert.equal(versions.size, 1, `${id} names two policy versions`);
      const [version] = versions;
      assert.equal(res.headers['x-switchyard-route'], expectedRoute[version], `${id} was not routed by ${version} alone`);
      assert.equal(own[1].rule, expectedRoute[version].split('rule=')[1], `${id}'s audited rule`);
      seen.add(version);
    }
    assert.equal(seen.size, 2, 'traffic ran on both policies');
    t.diagnostic(`${results.length} requests (${results.filter((r) => r.stream).length} streams), ${okWanted} reloads and ${50 - okWanted} rejected`);

    const reloads = records.filter((r) => r.phase === 'reload' && r.outcome === 'ok');
    assert.equal(reloads.length, okWanted);
    // Each rejected reload has its record too: the policy that stayed, the trigger, the error.
    const rejected = records.filter((r) => r.phase === 'reload' && r.outcome === 'rejected');
    assert.equal(rejected.length, 50 - okWanted);
    for (const r of rejected) {
      assert.equal(r.trigger, 'signal');
      assert.ok(r.policy_version in expectedRoute, r.policy_version);
      assert.match(r.error, /^\d+ errors?; first: .+:\d+:\d+: /);
    }
    let current = policyVersion(texts.a);
    for (const r of reloads) {
      assert.equal(r.trigger, 'signal');
      assert.equal(r.previous_policy_version, current);
      assert.ok(r.policy_version in expectedRoute, r.policy_version);
      current = r.policy_version;
    }
    const verify = runCli(['audit', 'verify', auditPath]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});

describe('server.watch_policy: a file change reloads', { timeout: 60_000 }, () => {
  let gateway;
  let dir;
  let mainFile;
  let routingFile;
  let auditPath;

  const routing = (rule, tier) => `${toYaml({ routing: [{ name: rule, when: { models: ['auto'] }, route: tier }] })}\n`;
  // An editor's save: a temporary file renamed over the old one (a new inode every time).
  const renameOver = (file, text) => {
    fs.writeFileSync(`${file}.swp`, text);
    fs.renameSync(`${file}.swp`, file);
  };

  before(async () => {
    const [alpha, beta] = await Promise.all([startMock('w-alpha'), startMock('w-beta')]);
    dir = makeTempDir();
    fs.mkdirSync(path.join(dir, 'teams'));
    routingFile = path.join(dir, 'teams', 'routing.yaml');
    fs.writeFileSync(routingFile, routing('rule-a', 'one'));
    auditPath = path.join(dir, 'audit.jsonl');
    const main = policy({
      backends: [backendFor('alpha', alpha, { model: 'model-a' }), backendFor('beta', beta, { model: 'model-b' })],
      tiers: { one: { backends: ['alpha'] }, two: { backends: ['beta'] } },
      server: { workers: 1, watch_policy: true },
    });
    main.include = ['teams/routing.yaml'];
    main.audit = { path: auditPath };
    mainFile = path.join(dir, 'switchyard.yaml');
    fs.writeFileSync(mainFile, `${toYaml(main)}\n`);
    gateway = await startGateway({ file: mainFile }, { dir });
  });

  after(stopAll);

  const metrics = () => scrapeMetrics(gateway);
  const route = async () => (await post(gateway, '/v1/chat/completions', chatBody('auto'))).headers['x-switchyard-route'];
  const versionNow = () => policyVersion(fs.readFileSync(mainFile, 'utf8'), fs.readFileSync(routingFile, 'utf8'));

  test('edits of the included and the main file apply; a broken edit is rejected, located and counted', { timeout: 50_000 }, async () => {
    assert.equal(await route(), 'tier=one; backend=alpha; model=model-a; rule=rule-a');
    const first = versionNow();

    renameOver(routingFile, routing('rule-b', 'two'));
    await waitFor(async () => reloadsOf(await metrics(), 'ok', 'file') === 1, { what: 'the reload of the included file' });
    assert.equal(await route(), 'tier=two; backend=beta; model=model-b; rule=rule-b');
    const second = versionNow();

    fs.appendFileSync(mainFile, 'models:\n  pinned:\n    backend: alpha\n');  // in place
    await waitFor(async () => reloadsOf(await metrics(), 'ok', 'file') === 2, { what: 'the reload of the main file' });
    const models = (await request({ port: gateway.port, path: '/v1/models' })).json.data.map((m) => m.id);
    assert.ok(models.includes('pinned'), models.join(','));
    const third = versionNow();

    const broken = routing('rule-c', 'no-such-tier');
    renameOver(routingFile, broken);  // the same file replaced again: still watched
    const logged = await gateway.waitForLog((l) => l.level === 'error' && /rejected/.test(l.msg) && l.trigger === 'file', 'the rejection');
    const lines = broken.split('\n');
    const line = lines.findIndex((l) => l.includes('no-such-tier')) + 1;
    const column = lines[line - 1].indexOf('no-such-tier') + 1;
    assert.match(logged.error, new RegExp(`^${routingFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${line}:${column}: `));
    await waitFor(async () => reloadsOf(await metrics(), 'error', 'file') === 1, { what: 'the failure counter' });
    assert.equal(await route(), 'tier=two; backend=beta; model=model-b; rule=rule-b', 'the running policy changed');

    renameOver(routingFile, routing('rule-a', 'one'));
    await waitFor(async () => reloadsOf(await metrics(), 'ok', 'file') === 3, { what: 'the recovery' });
    assert.equal(await route(), 'tier=one; backend=alpha; model=model-a; rule=rule-a');
    const fourth = versionNow();

    // A save of the same bytes is not a reload; SIGHUP still is.
    renameOver(routingFile, fs.readFileSync(routingFile, 'utf8'));
    await sleep(800);
    gateway.signal('SIGHUP');
    await waitFor(async () => reloadsOf(await metrics(), 'ok', 'signal') === 1, { what: 'the SIGHUP reload' });
    const m = await metrics();
    assert.equal(reloadsOf(m, 'ok', 'file'), 3);
    assert.equal(reloadsOf(m, 'error', 'file'), 1);

    await gateway.stop();
    const reloads = auditRecords(auditPath).filter((r) => r.phase === 'reload')
      .map((r) => [r.outcome, r.trigger, r.previous_policy_version, r.policy_version]);
    assert.deepEqual(reloads, [
      ['ok', 'file', first, second],
      ['ok', 'file', second, third],
      ['rejected', 'file', undefined, third],
      ['ok', 'file', third, fourth],
      ['ok', 'signal', fourth, fourth],
    ]);
    const rejected = auditRecords(auditPath).find((r) => r.outcome === 'rejected');
    assert.ok(new RegExp(`^\\d+ errors?; first: `).test(rejected.error), rejected.error);
    assert.ok(rejected.error.includes(`${routingFile}:${line}:${column}: `), rejected.error);
    const verify = runCli(['audit', 'verify', auditPath]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
