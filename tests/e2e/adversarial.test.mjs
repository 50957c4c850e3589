// The adversarial DLP corpus (tests/adversarial, issue 13 item 8): every variant, through every
// inbound surface (chat completions, Messages, embeddings), to an external OpenAI-kind and an
// external Anthropic-kind backend, under a policy that blocks secrets and pseudonymizes cards,
// IBANs, SSNs and e-mail addresses toward external backends. The external mock must never receive
// a protected value, by the normalized comparison of tests/adversarial/lib/normalize.mjs over
// every body it received. Prints `N variants, M leaked` and, per class, the leak counts and the
// first leaking variant ids. The same run as a CLI, one class at a time:
//   node tests/adversarial/run.mjs --bin BUILD/gateway/cli/switchyard \
//     --mock BUILD/examples/mock_llm/switchyard-mock --class formatting
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { stopAll } from './lib/harness.mjs';
import {
  formatSummary, runCorpus, selectVariants, startEnvironment, summarize,
} from '../adversarial/run.mjs';
import { findLeaks, haystacks } from '../adversarial/lib/normalize.mjs';

describe('adversarial DLP corpus toward external backends', { timeout: 300_000 }, () => {
  let env;
  const variants = selectVariants();

  before(async () => {
    env = await startEnvironment();
  });

  after(stopAll);

  test('the leak check finds each variant\'s own value in its body, and no other variant\'s', () => {
    const bodies = variants.map((v) => {
      if (v.body) return v.body;
      try {
        return JSON.parse(v.rawBody);
      } catch {
        return v.rawBody;
      }
    });
    const hay = bodies.map(haystacks);
    const missed = variants.filter((v, i) => findLeaks(v.values, hay[i]).length === 0).map((v) => v.id);
    assert.deepEqual(missed, [], 'variants the normalized comparison would not recognize');
    const crossed = [];
    for (let i = 0; i < variants.length; i++) {
      const other = variants[(i + 1) % variants.length];
      if (findLeaks(other.values, hay[i]).length > 0) crossed.push(`${variants[i].id} has ${other.id}`);
    }
    assert.deepEqual(crossed, [], 'a value found in another variant\'s body');
  });

  test('at least 500 variants over every class and surface', () => {
    assert.ok(variants.length >= 500, `${variants.length} variants`);
    const classes = new Set(variants.map((v) => v.class));
    for (const c of ['control', 'fields', 'anthropic_fields', 'embeddings', 'formatting', 'split', 'caps']) {
      assert.ok(classes.has(c), `class ${c}`);
    }
    assert.deepEqual([...new Set(variants.map((v) => v.surface))].sort(), ['chat', 'embeddings', 'messages']);
  });

  test('the external mock never receives a protected value', async () => {
    const runs = await runCorpus(env, variants, { concurrency: 4 });
    const summary = summarize(variants, runs);
    const report = formatSummary(summary);
    console.log(report);
    // The controls (plain values, and the forms the DLP handles today) must stay blocked or
    // pseudonymized: a leak there means the policy or the generated values are wrong.
    assert.equal(summary.byClass.control?.leaked ?? 0, 0, `controls leaked:\n${report}`);
    assert.equal(summary.leaked, 0, report);
  });
});
