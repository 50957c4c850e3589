// Policy operations end to end: a policy split with `include:` is what `serve` runs and what a
// SIGHUP reload re-reads (included files too, errors located in them), and `switchyard test`
// passes the shipped company policy's cases and fails a wrong one with exit 1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  E2E_DIR,
  backendFor,
  chatBody,
  makeTempDir,
  metricValue,
  mintKey,
  post,
  runCli,
  scrapeMetrics,
  startGateway,
  startMock,
  stopAll,
  toYaml,
  waitFor,
  writeConfig,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const EXAMPLES = path.resolve(E2E_DIR, '../../examples');

describe('a policy split with include:', { timeout: 120_000 }, () => {
  let gateway;
  let dir;
  let teamFile;
  const key = mintKey('analytics-batch', 'analytics');
  const teamPolicy = (extra = {}) => ({
    teams: { analytics: { limits: { rpm: 1000 } } },
    keys: [{ id: 'analytics-batch', hash: key.hash, team: 'analytics', ...extra }],
  });

  before(async () => {
    const local = await startMock('split-local');
    dir = makeTempDir();
    fs.mkdirSync(path.join(dir, 'teams'));
    teamFile = path.join(dir, 'teams', 'analytics.yaml');
    fs.writeFileSync(teamFile, `${toYaml(teamPolicy())}\n`);
    const main = writeConfig(dir, {
      server: { listen: '127.0.0.1:0', workers: 1, shutdown_grace: '5s' },
      admin: { listen: '127.0.0.1:0' },
      include: ['teams/analytics.yaml'],
      backends: [backendFor('local', local, { model: 'llama-3' })],
      tiers: { local: { backends: ['local'] } },
    });
    gateway = await startGateway({ file: main }, { dir });
  });

  after(stopAll);

  const chat = (secret) => post(gateway, '/v1/chat/completions', chatBody('auto'), {
    headers: { authorization: `Bearer ${secret}` },
  });
  const metric = async (name) => metricValue(await scrapeMetrics(gateway), name);

  test('serve authenticates a key that only the included file declares', TIMEOUT, async () => {
    const res = await chat(key.key);
    assert.equal(res.status, 200, res.body);
  });

  test('SIGHUP re-reads the included file; an error in it is located there and the old policy stays', TIMEOUT, async () => {
    fs.writeFileSync(teamFile, `${toYaml(teamPolicy()).replace('rpm: 1000', 'rpm: 0')}\n`);
    const lines = fs.readFileSync(teamFile, 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('rpm: 0')) + 1;
    const column = lines[line - 1].indexOf('0') + 1;
    gateway.signal('SIGHUP');
    const logged = await gateway.waitForLog((l) => l.level === 'error' && /rejected/.test(l.msg), 'the rejection');
    assert.equal(logged.error, `${teamFile}:${line}:${column}: teams.analytics.limits.rpm: must be > 0, got '0' (omit it for no limit)`);
    await waitFor(async () => (await metric('switchyard_config_reload_failures_total')) === 1, { what: 'the failure counter' });
    assert.equal((await chat(key.key)).status, 200, 'the running policy stopped serving');

    const reloads = await metric('switchyard_config_reloads_total');
    fs.writeFileSync(teamFile, `${toYaml(teamPolicy({ disabled: true }))}\n`);
    gateway.signal('SIGHUP');
    await waitFor(async () => (await metric('switchyard_config_reloads_total')) === reloads + 1, { what: 'the reload' });
    assert.equal((await chat(key.key)).status, 401, 'the key disabled in the included file still works');
  });

  test('lint and explain read the same assembled policy', TIMEOUT, () => {
    const lint = runCli(['lint', '--config', gateway.configFile]);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    const explained = runCli(['explain', '--config', gateway.configFile, '--key-id', 'analytics-batch'], {
      input: JSON.stringify(chatBody('auto')),
    });
    assert.equal(explained.code, 0, explained.stderr);
    assert.equal(JSON.parse(explained.stdout).team, 'analytics');
  });
});

describe('switchyard test', { timeout: 60_000 }, () => {
  test('the company policy passes its cases; the last line counts them', TIMEOUT, () => {
    const result = runCli(['test', '--config', path.join(EXAMPLES, 'company-policy.yaml'),
      path.join(EXAMPLES, 'company-policy.tests.yaml')]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines.at(-1), /^(\d+) passed, 0 failed$/);
    assert.ok(Number(/^(\d+)/.exec(lines.at(-1))[1]) >= 40);
  });

  test('a wrong expectation fails with expected and actual, exit 1 and --jsonl for CI', TIMEOUT, () => {
    const dir = makeTempDir();
    const cases = path.join(dir, 'wrong.tests.yaml');
    fs.writeFileSync(cases, [
      'cases:',
      '  - name: a card number goes to the frontier (wrong)',
      '    request: {key: eng-ide, model: gpt-4o, prompt: "card 4111 1111 1111 1111"}',
      '    expect: {tier: frontier}',
      '',
    ].join('\n'));
    const policy = path.join(EXAMPLES, 'company-policy.yaml');
    const text = runCli(['test', '--config', policy, cases]);
    assert.equal(text.code, 1);
    assert.equal(text.stdout,
      `FAIL  a card number goes to the frontier (wrong)  (${cases}:2)\n`
      + '      tier\n        expected: frontier\n        actual:   local\n0 passed, 1 failed\n');
    const jsonl = runCli(['test', '--config', policy, '--jsonl', cases]);
    assert.equal(jsonl.code, 1);
    const [first, last] = jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(first.failures, [{ field: 'tier', expected: 'frontier', actual: 'local' }]);
    assert.equal(first.decision.rule, 'restricted-stays-home');
    assert.deepEqual(last, { passed: 0, failed: 1 });
  });
});
