// The audit log end to end: every request leaves a decision record (before forwarding; durable
// first for external backends) and a completion record, with no prompt text, matched value or
// key secret in them; `switchyard audit verify` passes across a restart and names a tampered
// record.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
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
  writeConfig,
  mintKey,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const EMAIL = 'jane.doe@example.com';
const CARD = ['4111', '1111', '1111', '1111'].join(' ');

describe('audit log', { timeout: 120_000 }, () => {
  let gateway;
  let dir;
  let config;
  let auditPath;
  let key;

  before(async () => {
    const [local, cloud] = await Promise.all([startMock('local'), startMock('cloud')]);
    key = mintKey('auditor', 'risk');
    dir = makeTempDir();
    auditPath = path.join(dir, 'audit.jsonl');
    config = policy({
      backends: [
        backendFor('llama-local', local, { model: 'llama-3' }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external', cost: { input_per_mtok: 2.5, output_per_mtok: 10 } }),
      ],
      tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
      keys: [{ id: 'auditor', hash: key.hash, team: 'risk' }],
    });
    config.audit = { path: auditPath, durability: 'fsync' };
    gateway = await startGateway(config, { dir });
  });

  after(stopAll);

  const send = (model, text, withKey = true) => post(gateway, '/v1/chat/completions', chatBody(model, text), {
    headers: withKey ? { authorization: `Bearer ${key.key}` } : {},
  });

  test('decision and completion records for forwarded, pseudonymized, blocked and refused requests', TIMEOUT, async () => {
    assert.equal((await send('local', 'hello')).status, 200);
    assert.equal((await send('frontier', `mail ${EMAIL}`)).status, 200);
    assert.equal((await send('frontier', `card ${CARD}`)).status, 403);
    assert.equal((await send('local', 'no key', false)).status, 401);
    const metrics = await scrapeMetrics(gateway);
    assert.ok(metricValue(metrics, 'switchyard_audit_records_total') >= 4, 'records counted');
    assert.ok(metricValue(metrics, 'switchyard_audit_fsyncs_total') >= 1, 'the external request waited for an fsync');
    assert.equal(metricValue(metrics, 'switchyard_audit_errors_total'), 0);
    await gateway.stop();  // drains the writer

    const lines = fs.readFileSync(auditPath, 'utf8').trim().split('\n');
    const records = lines.map((l) => JSON.parse(l));
    const text = lines.join('\n');
    assert.ok(!text.includes(EMAIL) && !text.includes('1111') && !text.includes(key.key) && !text.includes('hello'),
      'no prompt text, matched value or key secret in the audit log');
    const phases = records.map((r) => `${r.phase}:${r.outcome}:${r.status}`);
    assert.deepEqual(phases, [
      'decision:forwarded:0', 'completion:forwarded:200',
      'decision:forwarded:0', 'completion:forwarded:200',
      'completion:blocked:403',
      'completion:rejected:401',
    ]);
    const [first, , second, secondDone, blocked, refused] = records;
    assert.equal(first.key_id, 'auditor');
    assert.equal(first.team, 'risk');
    assert.equal(first.backend, 'llama-local');
    assert.equal(second.backend, 'cloud');
    assert.equal(second.sensitivity, 'confidential');
    assert.deepEqual(second.findings, [{ detector: 'email', count: 1, action: 'pseudonymize' }]);
    assert.ok(secondDone.tokens.prompt > 0 && secondDone.cost_usd > 0);
    assert.equal(blocked.rule, 'restricted-stays-home');
    assert.deepEqual(blocked.findings, [{ detector: 'credit_card', count: 1, action: 'block' }]);
    assert.equal(refused.key_id, '');
    assert.deepEqual(records.map((r) => r.seq), [1, 2, 3, 4, 5, 6]);

    const verify = runCli(['audit', 'verify', auditPath]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^ok: 6 records in 1 files?/);
  });

  test('the chain continues across a restart, and a tampered record is named', TIMEOUT, async () => {
    gateway = await startGateway({ file: writeConfig(dir, config) }, { dir });
    assert.equal((await send('local', 'again')).status, 200);
    await gateway.stop();
    const records = fs.readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(records.length, 8);
    assert.notEqual(records[6].boot_id, records[0].boot_id);
    assert.equal(records[6].prev_hash, records[5].hash);
    assert.equal(runCli(['audit', 'verify', auditPath]).code, 0);

    const lines = fs.readFileSync(auditPath, 'utf8').split('\n');
    lines[2] = lines[2].replace('"status":0', '"status":1');
    const tampered = path.join(dir, 'tampered.jsonl');
    fs.writeFileSync(tampered, lines.join('\n'));
    const result = runCli(['audit', 'verify', tampered]);
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /record seq 3/);
  });
});
