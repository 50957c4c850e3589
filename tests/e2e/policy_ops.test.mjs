// Policy operations on a live gateway: shadow mode (`shadow: candidate.yaml`) decides each
// request under the candidate too, counts and audits where it disagrees and never changes what
// the client gets; `audit export --requests` turns the run's audit log into request lines that
// `explain --compare` replays under both policies.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  EMAIL,
  backendFor,
  chatBody,
  makeTempDir,
  metricValue,
  policy,
  post,
  runCli,
  scrapeMetrics,
  startGateway,
  startMock,
  stopAll,
  toYaml,
} from './lib/harness.mjs';

const auditRecords = (file) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('shadow mode and the compare round trip', { timeout: 60_000 }, () => {
  let gateway;
  let dir;
  let auditPath;
  let activeFile;
  let candidateFile;

  before(async () => {
    const alpha = await startMock('alpha');
    dir = makeTempDir();
    auditPath = path.join(dir, 'audit.jsonl');
    const base = policy({
      backends: [backendFor('alpha', alpha)],
      tiers: { local: { backends: ['alpha'] } },
      models: { pinned: { backend: 'alpha' } },
    });
    const active = { ...base, audit: { path: auditPath }, shadow: 'candidate.yaml', routing: [{ name: 'default', route: 'local' }] };
    const candidate = {
      ...base,
      routing: [
        { name: 'mail-blocked', when: { detectors: ['email'] }, action: 'block' },
        { name: 'pinned-blocked', when: { models: ['pinned'] }, action: 'block' },
        { name: 'default', route: 'local' },
      ],
    };
    candidateFile = path.join(dir, 'candidate.yaml');
    activeFile = path.join(dir, 'switchyard.yaml');
    fs.writeFileSync(candidateFile, `${toYaml(candidate)}\n`);
    fs.writeFileSync(activeFile, `${toYaml(active)}\n`);
    gateway = await startGateway({ file: activeFile }, { dir });
  });

  after(stopAll);

  test('disagreements are counted and audited, agreements are not; clients get the active answer', async () => {
    const agree = await post(gateway, '/v1/chat/completions', chatBody('auto', 'Say hello.'));
    const mail = await post(gateway, '/v1/chat/completions', chatBody('auto', `write to ${EMAIL}`));
    const pinned = await post(gateway, '/v1/chat/completions', chatBody('pinned', 'Say hello.'));
    const stream = await post(gateway, '/v1/chat/completions', chatBody('pinned', 'Say hello.', { stream: true }));
    for (const res of [agree, mail, pinned, stream]) {
      assert.equal(res.status, 200, res.body);  // the candidate would block two: it never acts
      assert.match(res.headers['x-switchyard-route'], /rule=default(;|$)/);
    }
    assert.ok(stream.body.trimEnd().endsWith('data: [DONE]'), stream.body);

    const metrics = await scrapeMetrics(gateway);
    assert.equal(metricValue(metrics, 'switchyard_shadow_evaluations_total'), 4);
    assert.equal(metricValue(metrics, 'switchyard_shadow_errors_total'), 0);
    assert.equal(metricValue(metrics, 'switchyard_shadow_disagreements_total', { active_rule: 'default', shadow_rule: 'mail-blocked' }), 1);
    assert.equal(metricValue(metrics, 'switchyard_shadow_disagreements_total', { active_rule: 'default', shadow_rule: 'pinned-blocked' }), 2);

    await gateway.stop();  // drains the audit writer
    const completions = new Map(auditRecords(auditPath).filter((r) => r.phase === 'completion').map((r) => [r.request_id, r]));
    const of = (res) => completions.get(res.headers['x-request-id']);
    assert.equal(of(agree).shadow, undefined);
    assert.deepEqual(of(mail).shadow, {
      policy_version: of(mail).shadow.policy_version,
      action: 'block',
      status: 403,
      tier: '',
      backend: '',
      rule: 'mail-blocked',
      sensitivity: of(mail).sensitivity,
      differs: ['action', 'status', 'tier', 'backend', 'rule', 'blocked_by', 'findings'],
    });
    assert.match(of(mail).shadow.policy_version, /^[0-9a-f]{16}$/);
    assert.notEqual(of(mail).shadow.policy_version, of(mail).policy_version);
    assert.equal(of(pinned).shadow.rule, 'pinned-blocked');
    assert.equal(of(stream).shadow.rule, 'pinned-blocked');
    // Decision records are written before forwarding: the shadow is only in the completion.
    assert.ok(auditRecords(auditPath).filter((r) => r.phase === 'decision').every((r) => r.shadow === undefined));
    const verify = runCli(['audit', 'verify', auditPath]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    // The round trip: what the model and key reproduce replays; the e-mail (no text in the log)
    // does not.
    const exported = runCli(['audit', 'export', '--requests', auditPath]);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.ok(!exported.stdout.includes(EMAIL));
    const compared = runCli(['explain', '--config', activeFile, '--compare', candidateFile, '--jsonl'], { input: exported.stdout });
    assert.equal(compared.code, 1, compared.stderr);
    const out = compared.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const summary = out.pop();
    assert.deepEqual(summary, { requests: 4, differ: 2, invalid: 0, by_rule: [{ a: 'default', b: 'pinned-blocked', count: 2 }] });
    assert.deepEqual(out.map((d) => d.id).sort(), [pinned, stream].map((r) => r.headers['x-request-id']).sort());
    assert.equal(out[0].a.action, 'allow');
    assert.equal(out[0].b.action, 'block');
  });
});

describe('shadow: a bad candidate', { timeout: 30_000 }, () => {
  after(stopAll);

  test('is an error of the policy, located in the candidate, for lint and serve alike', async () => {
    const dir = makeTempDir();
    const main = path.join(dir, 'switchyard.yaml');
    fs.writeFileSync(path.join(dir, 'candidate.yaml'), 'backends: []\ntiers: {}\nrouting: [{name: x, route: nowhere}]\n');
    fs.writeFileSync(main, `${toYaml({ ...policy({ backends: [{ name: 'a', url: 'http://127.0.0.1:9' }], tiers: { t: { backends: ['a'] } } }), shadow: 'candidate.yaml' })}\n`);
    const lint = runCli(['lint', '--config', main]);
    assert.equal(lint.code, 1);
    assert.match(lint.stderr, /switchyard\.yaml:\d+:\d+: shadow: the candidate policy '.*candidate\.yaml' is invalid/);
    assert.match(lint.stderr, /candidate\.yaml:\d+:\d+: /);
    const serve = runCli(['serve', '--config', main], { timeoutMs: 10_000 });
    assert.equal(serve.code, 1);
    assert.match(serve.stderr, /candidate\.yaml/);
  });
});
