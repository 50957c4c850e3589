// difficulty.judge end to end: a self-hosted mock grades prompts whose score is in the judge's
// band (here [0, 1]: every prompt), its grade decides the difficulty label, a judge that times
// out or fails leaves the classifier's label, a prompt the self-hosted destination would receive
// transformed is never shown to the judge, and every consultation is counted by outcome.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  backendFor,
  chatBody,
  metricValue,
  policy,
  post,
  runCli,
  scrapeMetrics,
  startGateway,
  startMock,
  stopAll,
  writeConfig,
  makeTempDir,
} from './lib/harness.mjs';

const TIMEOUT = { timeout: 60_000 };
// Hand-written, clearly routine for the classifier.
const ROUTINE = 'Rewrite this sentence in a friendlier tone: please send the report.';
const EMAIL = 'dana.whitfield@example.org';

const route = (res) => Object.fromEntries(res.headers['x-switchyard-route'].split('; ').map((kv) => kv.split('=')));

describe('difficulty judge', { timeout: 180_000 }, () => {
  let gateway;
  let local;
  let cloud;
  let judge;
  let config;

  before(async () => {
    [local, cloud, judge] = await Promise.all([startMock('local'), startMock('cloud'), startMock('judge')]);
    config = policy({
      backends: [
        backendFor('local', local, { model: 'llama' }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external' }),
        backendFor('grader', judge, { model: 'judge-model' }),
      ],
      tiers: { local: { backends: ['local'] }, frontier: { backends: ['cloud'] } },
    });
    config.difficulty = { judge: { backend: 'grader', band: [0, 1], timeout: '300ms' } };
    config.dlp = { actions: [{ name: 'redact-emails', detectors: ['email'], action: 'redact' }] };
    config.routing = [
      { name: 'hard-goes-out', when: { difficulty: 'complex', models: ['auto'] }, route: 'frontier' },
      { name: 'routine-stays-local', when: { models: ['auto'] }, route: 'local' },
    ];
    gateway = await startGateway(config);
  });

  after(stopAll);

  const judged = async (outcome) => metricValue(await scrapeMetrics(gateway), 'switchyard_difficulty_judge_total', { outcome }) ?? 0;

  test('the judge overrules the classifier: a routine-scored prompt it grades complex goes to the frontier', TIMEOUT, async () => {
    await judge.configure({ reset: true, grade: 2 });
    const before = await judged('overruled');
    const res = await post(gateway, '/v1/chat/completions', chatBody('auto', ROUTINE));
    assert.equal(res.status, 200, res.body);
    assert.equal(route(res).rule, 'hard-goes-out');
    assert.equal(await judged('overruled'), before + 1);
    const asked = await judge.lastRequest();
    assert.equal(asked.model, 'judge-model');
    assert.equal(asked.max_tokens, 4);
    assert.equal(asked.messages.at(-1).content, ROUTINE, 'the judge reads the judged user turn');
    assert.match(asked.messages[0].content, /exactly one word/);
  });

  test('a judge that agrees keeps the classifier\'s decision', TIMEOUT, async () => {
    await judge.configure({ reset: true, grade: 1 });
    const before = await judged('agreed');
    const res = await post(gateway, '/v1/chat/completions', chatBody('auto', ROUTINE));
    assert.equal(route(res).rule, 'routine-stays-local');
    assert.equal(await judged('agreed'), before + 1);
  });

  test('a judge slower than its timeout is waited for no longer: the classifier\'s label decides', TIMEOUT, async () => {
    await judge.configure({ reset: true, grade: 2, latency_ms: 3000 });
    const before = await judged('timeout');
    const started = Date.now();
    const res = await post(gateway, '/v1/chat/completions', chatBody('auto', ROUTINE));
    const took = Date.now() - started;
    assert.equal(res.status, 200, res.body);
    assert.equal(route(res).rule, 'routine-stays-local');
    assert.ok(took < 2000, `answered in ${took} ms, not after the judge's 3 s`);
    assert.equal(await judged('timeout'), before + 1);
  });

  test('a judge answering an error or something that is not a grade leaves the classifier\'s label', TIMEOUT, async () => {
    await judge.configure({ reset: true, error_status: 500 });
    const failedBefore = await judged('failed');
    let res = await post(gateway, '/v1/chat/completions', chatBody('auto', ROUTINE));
    assert.equal(route(res).rule, 'routine-stays-local');
    await judge.configure({ reset: true });  // "Hello from judge. lorem ..." is no grade
    res = await post(gateway, '/v1/chat/completions', chatBody('auto', ROUTINE));
    assert.equal(route(res).rule, 'routine-stays-local');
    assert.equal(await judged('failed'), failedBefore + 2);
  });

  test('a prompt the self-hosted destination would receive redacted is not shown to the judge', TIMEOUT, async () => {
    await judge.configure({ reset: true, grade: 2 });
    const requestsBefore = (await judge.stats()).requests;
    const skippedBefore = await judged('skipped_dlp');
    const res = await post(gateway, '/v1/chat/completions', chatBody('auto', `${ROUTINE} Copy ${EMAIL}.`));
    assert.equal(res.status, 200, res.body);
    assert.equal(route(res).rule, 'routine-stays-local');
    assert.equal((await judge.stats()).requests, requestsBefore, 'the judge saw nothing');
    assert.equal(await judged('skipped_dlp'), skippedBefore + 1);
  });

  test('explain says whether serve would ask the judge', TIMEOUT, async () => {
    const explained = runCli(['explain', '--config', gateway.configFile], { input: JSON.stringify(chatBody('auto', ROUTINE)) });
    assert.equal(explained.code, 0, explained.stderr);
    const decision = JSON.parse(explained.stdout);
    assert.deepEqual(decision.difficulty.judge, { backend: 'grader', band: [0, 1], in_band: true });
  });

  test('an external judge is refused: the prompt must not leave to be graded', TIMEOUT, async () => {
    const bad = JSON.parse(JSON.stringify(config));
    bad.difficulty.judge.backend = 'cloud';
    const file = writeConfig(makeTempDir(), bad);
    const linted = runCli(['lint', '--config', file]);
    assert.notEqual(linted.code, 0);
    assert.match(linted.stderr + linted.stdout, /difficulty\.judge\.backend: 'cloud' is external; the judge reads the prompt and must be self-hosted/);
  });
});
