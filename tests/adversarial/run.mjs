#!/usr/bin/env node
// Runs the adversarial corpus (generate.mjs) through a real gateway toward an external mock and
// reports what leaked. Used by tests/e2e/adversarial.test.mjs, and as a CLI:
//
//   node tests/adversarial/run.mjs [--bin SWITCHYARD] [--mock SWITCHYARD_MOCK] [--class C]...
//        [--surface chat|messages|embeddings]... [--id-match SUBSTRING] [--concurrency N]
//        [--seed S] [--json FILE] [--all-ids]
//
// The gateway gets a policy under which every protected kind is blocked (secrets) or
// pseudonymized (card, IBAN, SSN, e-mail) toward external backends, and two external backends on
// one `switchyard-mock`: `ext-openai` (kind openai, model alias `frontier`) and `ext-anthropic`
// (kind anthropic, `frontier-claude`). Every chat and Messages variant is sent to both, every
// embeddings variant to the first. A request may be refused (4xx) or answered: only what reaches
// the mock counts. The mock's request log is read after each batch and every body is checked with
// the normalized comparison of lib/normalize.mjs. Exit status: 0 when nothing leaked, 1 otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { CLASSES, DEFAULT_SEED, corpusDigest, generateCorpus } from './generate.mjs';
import { documentedGap } from './lib/gaps.mjs';
import { findLeaks, haystacks } from './lib/normalize.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HARNESS = pathToFileURL(path.resolve(HERE, '../e2e/lib/harness.mjs')).href;

export const TARGETS = {
  chat: [{ name: 'openai', model: 'frontier' }, { name: 'anthropic', model: 'frontier-claude' }],
  messages: [{ name: 'openai', model: 'frontier' }, { name: 'anthropic', model: 'frontier-claude' }],
  embeddings: [{ name: 'openai', model: 'frontier' }],
};
const PATHS = { chat: '/v1/chat/completions', messages: '/v1/messages', embeddings: '/v1/embeddings' };
const BATCH_REQUESTS = 24;               // the mock's log keeps the last 64 requests ...
const BATCH_BYTES = 6 << 20;              // ... and 16 MiB of bodies
const PROTECTED = ['credit_card', 'iban', 'us_ssn', 'email'];

// The policy: nothing protected may reach an external backend in clear.
export function adversarialPolicy(h, mock) {
  const config = h.policy({
    backends: [
      h.backendFor('ext-openai', mock, { model: 'gpt-ext', location: 'external' }),
      h.backendFor('ext-anthropic', mock, { kind: 'anthropic', model: 'claude-ext', location: 'external' }),
    ],
    tiers: { frontier: { backends: ['ext-openai'] }, 'frontier-claude': { backends: ['ext-anthropic'] } },
    server: { access_log: false },
  });
  config.dlp = {
    actions: [
      { name: 'secrets-never-leave', detectors: ['secrets'], destination: 'external', action: 'block' },
      { name: 'pii-pseudonymized', detectors: PROTECTED, destination: 'external', action: 'pseudonymize' },
    ],
  };
  return config;
}

// Starts the external mock and the gateway. Returns {h, mock, gateway}.
export async function startEnvironment() {
  const h = await import(HARNESS);
  const mock = await h.startMock('external');
  const gateway = await h.startGateway(adversarialPolicy(h, mock));
  return { h, mock, gateway };
}

function requestBody(variant, model) {
  if (variant.body) return JSON.stringify({ ...variant.body, model });
  const text = variant.rawBody.replace('__MODEL__', model);
  return Buffer.from(text, variant.rawEncoding === 'latin1' ? 'latin1' : 'utf8');
}

// Every (variant, target) pair, target-major so that one batch speaks to one backend.
export function planRuns(variants) {
  const runs = [];
  for (const target of ['openai', 'anthropic']) {
    for (const variant of variants) {
      const t = TARGETS[variant.surface].find((x) => x.name === target);
      if (t) runs.push({ variant, target: t.name, model: t.model, payload: requestBody(variant, t.model) });
    }
  }
  return runs;
}

async function pool(items, concurrency, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

// Sends every run; returns the runs with {status, leaks: [{kind, needle, path}]}.
export async function runCorpus(env, variants, { concurrency = 4, progress = () => {} } = {}) {
  const { h, mock, gateway } = env;
  const runs = planRuns(variants);
  const batches = [];
  let current = [];
  let bytes = 0;
  for (const run of runs) {
    const size = Buffer.byteLength(run.payload);
    if (current.length > 0 && (current.length >= BATCH_REQUESTS || bytes + size > BATCH_BYTES ||
        current[0].target !== run.target)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(run);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);

  let done = 0;
  for (const batch of batches) {
    const before = (await mock.stats()).requests;
    await pool(batch, concurrency, async (run) => {
      const headers = { 'content-type': 'application/json' };
      if (run.variant.surface === 'messages') headers['anthropic-version'] = '2023-06-01';
      try {
        const res = await h.request({
          port: gateway.port, method: 'POST', path: PATHS[run.variant.surface], headers,
          body: run.payload, timeoutMs: 120_000,
        });
        run.status = res.status;
      } catch (err) {
        run.status = `error: ${err.message}`;
      }
      run.leaks = [];
    });
    const received = (await mock.stats()).requests - before;
    const log = received > 0 ? await mock.requests() : [];
    if (received > log.length) {
      throw new Error(`the mock received ${received} requests in one batch but its log holds ${log.length}: lower BATCH_REQUESTS/BATCH_BYTES`);
    }
    for (const entry of log.slice(log.length - received)) {
      const hay = haystacks(entry.body ?? '');
      for (const run of batch) {
        for (const leak of findLeaks(run.variant.values, hay)) run.leaks.push({ ...leak, path: entry.target });
      }
    }
    done += batch.length;
    progress(done, runs.length);
  }
  return runs;
}

// Per class: variants, leaked variants (any target), leaked requests by surface->target, ids.
export function summarize(variants, runs) {
  const byClass = {};
  const leakedIds = new Set();
  for (const c of [...CLASSES]) byClass[c] = { variants: 0, leaked: 0, requests: 0, leakedRequests: {}, leakedKinds: {}, ids: [], statuses: {} };
  for (const v of variants) byClass[v.class].variants++;
  const leakedByVariant = new Map();
  for (const run of runs) {
    const c = byClass[run.variant.class];
    c.requests++;
    c.statuses[run.status] = (c.statuses[run.status] ?? 0) + 1;
    if (run.leaks.length === 0) continue;
    if (!documentedGap(run.variant)) {
      const key = `${run.variant.surface}->${run.target}`;
      c.leakedRequests[key] = (c.leakedRequests[key] ?? 0) + 1;
    }
    if (!leakedByVariant.has(run.variant.id)) leakedByVariant.set(run.variant.id, []);
    leakedByVariant.get(run.variant.id).push(run.target);
  }
  const gaps = { leaked: [], caught: [] };
  for (const v of variants) {
    if (documentedGap(v) && !leakedByVariant.has(v.id)) gaps.caught.push(v.id);
  }
  for (const [id, targets] of leakedByVariant) {
    const v = variants.find((x) => x.id === id);
    if (documentedGap(v)) {
      gaps.leaked.push(`${id} [${targets.join(',')}]`);
      continue;
    }
    byClass[v.class].leaked++;
    byClass[v.class].leakedKinds[v.kind] = (byClass[v.class].leakedKinds[v.kind] ?? 0) + 1;
    byClass[v.class].ids.push(`${id} [${targets.join(',')}]`);
    leakedIds.add(id);
  }
  for (const c of Object.keys(byClass)) if (byClass[c].variants === 0) delete byClass[c];
  return { variants: variants.length, digest: corpusDigest(variants), requests: runs.length, leaked: leakedIds.size, byClass, gaps };
}

export function formatSummary(summary, { idsPerClass = 5 } = {}) {
  const lines = [];
  lines.push(`${summary.variants} variants, ${summary.leaked} leaked (${summary.requests} requests; corpus ${summary.digest})`);
  for (const [cls, c] of Object.entries(summary.byClass)) {
    const per = Object.entries(c.leakedRequests).map(([k, n]) => `${k} ${n}`).join(', ');
    const statuses = Object.entries(c.statuses).map(([k, n]) => `${k}:${n}`).join(' ');
    lines.push(`  ${cls.padEnd(17)} ${String(c.leaked).padStart(4)} of ${String(c.variants).padEnd(4)} leaked` +
      `${per ? `  requests leaked: ${per}` : ''}  [statuses ${statuses}]`);
    const kinds = Object.entries(c.leakedKinds).map(([k, n]) => `${k} ${n}`).join(', ');
    if (kinds) lines.push(`      by kind: ${kinds}`);
    // The first leaking variant of each field (the ids are kind-major), then the rest.
    const seen = new Set();
    const fieldOf = (id) => id.split('.')[2];
    const ordered = [...c.ids.filter((id) => !seen.has(fieldOf(id)) && seen.add(fieldOf(id))),
      ...c.ids.filter((id) => !seen.has(id) && seen.add(id))];
    const ids = [...new Set(ordered)].slice(0, idsPerClass);
    for (const id of ids) lines.push(`      ${id}`);
    if (c.ids.length > ids.length) lines.push(`      ... ${c.ids.length - ids.length} more`);
  }
  if (summary.gaps.leaked.length + summary.gaps.caught.length > 0) {
    lines.push(`documented gaps (tests/adversarial/lib/gaps.mjs, not counted above): ` +
      `${summary.gaps.leaked.length} leaked as documented, ${summary.gaps.caught.length} now caught`);
    for (const id of summary.gaps.caught) lines.push(`      now caught: ${id}`);
  }
  return lines.join('\n');
}

export function selectVariants({ seed = DEFAULT_SEED, classes = [], surfaces = [], idMatch = [] } = {}) {
  return generateCorpus({ seed }).filter((v) =>
    (classes.length === 0 || classes.includes(v.class)) &&
    (surfaces.length === 0 || surfaces.includes(v.surface)) &&
    (idMatch.length === 0 || idMatch.some((m) => v.id.includes(m))));
}

async function main(argv) {
  const opts = { classes: [], surfaces: [], idMatch: [], concurrency: 4, seed: DEFAULT_SEED, json: null, allIds: false };
  const usage = 'usage: run.mjs [--bin SWITCHYARD] [--mock SWITCHYARD_MOCK] [--class C]... [--surface S]... ' +
    '[--id-match TEXT]... [--concurrency N] [--seed S] [--json FILE] [--all-ids]';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value\n${usage}`);
      return argv[++i];
    };
    if (a === '--bin') process.env.SWITCHYARD_BIN = path.resolve(val());
    else if (a === '--mock') process.env.SWITCHYARD_MOCK_BIN = path.resolve(val());
    else if (a === '--class') opts.classes.push(val());
    else if (a === '--surface') opts.surfaces.push(val());
    else if (a === '--id-match') opts.idMatch.push(val());
    else if (a === '--concurrency') opts.concurrency = Number(val());
    else if (a === '--seed') opts.seed = val();
    else if (a === '--json') opts.json = val();
    else if (a === '--all-ids') opts.allIds = true;
    else if (a === '-h' || a === '--help') {
      console.log(usage);
      return 0;
    } else {
      console.error(`unknown argument: ${a}\n${usage}`);
      return 2;
    }
  }
  for (const c of opts.classes) {
    if (!CLASSES.includes(c)) {
      console.error(`unknown class ${c}: one of ${CLASSES.join(', ')}`);
      return 2;
    }
  }
  const variants = selectVariants(opts);
  const started = Date.now();
  const env = await startEnvironment();
  try {
    const runs = await runCorpus(env, variants, {
      concurrency: opts.concurrency,
      progress: (done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} requests${done === total ? '\n' : ''}`);
      },
    });
    const summary = summarize(variants, runs);
    console.log(formatSummary(summary, { idsPerClass: opts.allIds ? Infinity : 5 }));
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
    if (opts.json) {
      const detail = runs.map((r) => ({ id: r.variant.id, target: r.target, status: r.status, leaks: r.leaks }));
      fs.writeFileSync(opts.json, JSON.stringify({ summary, runs: detail }, null, 1));
    }
    return summary.leaked === 0 ? 0 : 1;
  } finally {
    await env.h.stopAll();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
    console.error(err.stack || String(err));
    process.exit(2);
  });
}
