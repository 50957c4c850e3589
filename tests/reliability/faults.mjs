// Faults under load: 64 keep-alive clients (quick: 16) for 60 s (quick: 15 s) against a gateway
// whose self-hosted tier has two mocks that reset 1% of their connections and stall 1% past the
// first-byte timeout, take bursts of 429s, and a third backend whose host name does not resolve;
// some streams are cut mid-way by the upstream. Requests for `gpt` go to an external mock (as
// faulty) with a second external mock as the fallback tier; restricted prompts ask for `gpt` too,
// and the policy's first rule keeps them on the self-hosted tier.
// Reports success rate, p99, retries, fallbacks and breaker transitions, and checks from the audit
// records that no request the policy kept on self-hosted backends reached the external one.
//   node tests/reliability/faults.mjs [--quick|--full] [--record]
import path from 'node:path';

import {
  CARD,
  backendFor,
  chatBody,
  main,
  makeTempDir,
  metricSum,
  parseMetrics,
  percentile,
  round,
  runLoad,
  sampler,
  scanAudit,
  scrapeMetrics,
  sleep,
  sseData,
  startGateway,
  startMock,
  stopProcess,
  verifyAudit,
  watchdog,
} from './lib.mjs';

const ROUTINE = 'Rewrite this sentence in a friendlier tone: please send the report.';

main('faults', async (report, { full }) => {
  const connections = full ? 64 : 16;
  const durationMs = full ? 60_000 : 15_000;
  watchdog(durationMs + 90_000, 'faults');
  report.figure('connections', connections);
  report.figure('duration_s', durationMs / 1000);

  const faulty = ['--reset-permille', 10, '--stall-permille', 10, '--stall-ms', 3000, '--threads', 2];
  const [localA, localB, cloud, backup] = await Promise.all([
    startMock('local-a', faulty), startMock('local-b', faulty), startMock('cloud', faulty),
    startMock('cloud-backup', ['--threads', 2])]);
  const external = { location: 'external', cost: { input_per_mtok: 1, output_per_mtok: 2 } };
  const dir = makeTempDir('sy-faults-');
  const auditFile = path.join(dir, 'audit.jsonl');
  const timeouts = { connect: '1s', first_byte: '1s', idle: '2s' };
  const config = {
    server: { listen: '127.0.0.1:0', workers: 2, shutdown_grace: '5s', access_log: false },
    admin: { listen: '127.0.0.1:0' },
    auth: { anonymous: true },
    backends: [
      backendFor('local-a', localA, { timeouts, health_check: false }),
      backendFor('local-b', localB, { timeouts, health_check: false }),
      // .invalid never resolves (RFC 2606).
      backendFor('ghost', 'http://ghost-backend.invalid:8000', { timeouts, health_check: false }),
      backendFor('cloud', cloud, { ...external, timeouts }),
      backendFor('cloud-backup', backup, { ...external, timeouts }),
    ],
    tiers: {
      local: { backends: ['local-a', 'local-b', 'ghost'] },
      frontier: { backends: ['cloud'] },
      backup: { backends: ['cloud-backup'] },
    },
    models: { gpt: { tier: 'frontier' } },
    routing: [
      { name: 'restricted-stays-home', when: { sensitivity: '>= restricted' }, route: 'local' },
      { name: 'gpt-with-backup', when: { models: ['gpt'] }, route: 'frontier', fallback: ['backup'] },
      { name: 'local-default', route: 'local' },
    ],
    resilience: { retries: { max_attempts: 3, backoff: '5ms', max_backoff: '50ms' }, breaker: { failures: 5, open_for: '2s', max_open_for: '4s' } },
    audit: { path: auditFile, durability: 'batch' },
  };
  const gateway = await startGateway(config, { dir });

  // Breaker states, sampled: every change of a backend's state is one transition.
  const stopBreakers = sampler(async () => {
    const samples = parseMetrics(await scrapeMetrics(gateway)).filter((s) => s.name === 'switchyard_backend_breaker_state');
    return Object.fromEntries(samples.map((s) => [s.labels.backend, s.value]));
  }, 100);
  // 429 bursts: every 3 s one mock (in turn) answers its next 40 requests with 429.
  let bursts = 0;
  let loadDone = false;
  const burster = (async () => {
    while (!loadDone) {
      await sleep(3000);
      if (loadDone) break;
      await [localA, localB, cloud][bursts % 3].configure({ error_status: 429, error_count: 40 });
      bursts++;
    }
  })();

  const completeStream = (r) => r.status === 200 && sseData(r.body).at(-1) === '[DONE]';
  const completeJson = (r) => {
    try {
      return r.status === 200 && typeof JSON.parse(r.body).choices[0].message.content === 'string';
    } catch {
      return false;
    }
  };
  const make = (i) => {
    const n = i % 100;
    if (n < 3) {  // the upstream cuts the stream after 3 chunks: the client must see the cut
      return { kind: 'cut', path: '/v1/chat/completions', body: chatBody('auto', `${ROUTINE} ${i} mock:disconnect_after=3`, { stream: true }) };
    }
    if (n < 13) {  // restricted (a card number), asking for gpt: the policy keeps it at home
      return { kind: 'restricted', path: '/v1/chat/completions', body: chatBody('gpt', `Card ${CARD}, request ${i}. ${ROUTINE}`) };
    }
    if (n < 28) {
      return { kind: 'plain', path: '/v1/chat/completions', body: chatBody('gpt', `${ROUTINE} ${i}`) };
    }
    if (n < 45) {
      return { kind: 'stream', path: '/v1/chat/completions', body: chatBody('auto', `${ROUTINE} ${i}`, { stream: true }) };
    }
    return { kind: 'plain', path: '/v1/chat/completions', body: chatBody('auto', `${ROUTINE} ${i}`) };
  };
  const started = Date.now();
  const results = await runLoad(gateway.port, { connections, durationMs, make });
  const elapsed = (Date.now() - started) / 1000;
  loadDone = true;
  await burster;
  await sleep(300);
  const breakerSamples = await stopBreakers();
  const metrics = await scrapeMetrics(gateway);
  const mockRequests = (await Promise.all([localA, localB, cloud, backup].map((m) => m.stats()))).map((s) => s.requests);
  const exit = await stopProcess(gateway.proc, 10_000);
  report.check('the gateway exited 0 on SIGTERM (no sanitizer report, no crash)', exit?.code === 0, JSON.stringify(exit));

  // Figures.
  const normal = results.filter((r) => r.kind !== 'cut');
  const ok = normal.filter((r) => (r.kind === 'stream' ? completeStream(r) : completeJson(r)));
  const cut = results.filter((r) => r.kind === 'cut');
  // Seen: a socket error, a non-200 (a retry after the cut ended in an error status), or a 200
  // stream without [DONE] (the in-band error event ends it).
  const cutSeen = cut.filter((r) => r.error || r.status !== 200 || sseData(r.body).at(-1) !== '[DONE]');
  const latencies = normal.map((r) => r.ms);
  const successRate = ok.length / normal.length;
  const routeOf = (r) => /tier=([^;]+)/.exec(r.headers?.['x-switchyard-route'] ?? '')?.[1];
  const fallbacks = results.filter((r) => routeOf(r) === 'backup').length;
  let transitions = 0;
  for (let k = 1; k < breakerSamples.length; k++) {
    for (const [backend, state] of Object.entries(breakerSamples[k].v)) {
      if (breakerSamples[k - 1].v[backend] !== undefined && breakerSamples[k - 1].v[backend] !== state) transitions++;
    }
  }
  const forwardedToMocks = mockRequests.reduce((a, b) => a + b, 0);
  const samples = parseMetrics(metrics);
  const byLabels = (name, key) => Object.fromEntries(samples.filter((s) => s.name === name).map((s) => [key(s.labels), s.value]));
  const upstreamErrors = byLabels('switchyard_upstream_errors_total', (l) => `${l.backend}/${l.reason}`);
  // The gateway's own counters (the figures above them are derived from outside, kept to compare).
  const retriesCounted = byLabels('switchyard_upstream_retries_total', (l) => `${l.backend}/${l.reason}`);
  const fallbacksCounted = byLabels('switchyard_fallbacks_total', (l) => `${l.from_tier}->${l.to_tier}`);
  const transitionsCounted = byLabels('switchyard_backend_breaker_transitions_total', (l) => `${l.backend}/${l.to}`);
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  const statuses = {};
  for (const r of normal.filter((x) => !ok.includes(x))) statuses[r.status || r.error] = (statuses[r.status || r.error] ?? 0) + 1;

  report.figure('requests', results.length);
  report.figure('rps', round(results.length / elapsed));
  report.figure('success_rate_pct', round(successRate * 100, 3));
  report.figure('failures_by_status', statuses);
  report.figure('p50_ms', round(percentile(latencies, 50)));
  report.figure('p99_ms', round(percentile(latencies, 99)));
  report.figure('max_ms', round(latencies.reduce((a, b) => Math.max(a, b), 0)));
  report.figure('upstream_errors', upstreamErrors);
  report.figure('retries', sum(retriesCounted));
  report.figure('retries_by_backend_reason', retriesCounted);
  report.figure('fallbacks', sum(fallbacksCounted));
  report.figure('fallbacks_by_tier', fallbacksCounted);
  report.figure('breaker_transitions', sum(transitionsCounted));
  report.figure('breaker_transitions_by_backend', transitionsCounted);
  // Derived from outside, as before the counters existed. Upstream attempts beyond one per
  // request that reached a mock (the ghost's attempts fail before any mock sees them; a reset
  // pooled connection is resent once without being a retry).
  report.figure('derived_retries_at_mocks', forwardedToMocks - results.length);
  report.figure('derived_fallback_answers', fallbacks);
  report.figure('derived_breaker_transitions_sampled', transitions);
  report.figure('bursts_of_429', bursts);
  report.figure('streams_cut_upstream', cut.length);

  report.check('success rate >= 99% (requests without a deliberate stream cut)', successRate >= 0.99, `${round(successRate * 100, 3)}%`);
  report.check('p99 <= 2500 ms (retries past 1 s stalls included)', percentile(latencies, 99) <= 2500, `${round(percentile(latencies, 99))} ms`);
  const cutHidden = cut.filter((r) => !cutSeen.includes(r)).slice(0, 3)
    .map((r) => `${r.headers['x-switchyard-route']} ${r.headers['x-request-id']}: ${r.body.slice(-300)}`);
  report.check('every upstream stream cut is visible to the client (no [DONE])', cutSeen.length === cut.length,
    `${cutSeen.length}/${cut.length}${cutHidden.length ? `; not seen: ${cutHidden.join(' | ')}` : ''}`);
  report.check('the unresolvable backend failed as unreachable and was retried around',
    (upstreamErrors['ghost/unreachable'] ?? 0) > 0, JSON.stringify(upstreamErrors['ghost/unreachable'] ?? 0));
  report.check('the unresolvable backend was retried around (switchyard_upstream_retries_total)',
    (retriesCounted['ghost/unreachable'] ?? 0) > 0, JSON.stringify(retriesCounted['ghost/unreachable'] ?? 0));
  // Each retry follows its own failed attempt of that backend and reason.
  const overRetried = Object.entries(retriesCounted).filter(([k, v]) => v > (upstreamErrors[k] ?? 0));
  report.check('retries <= failed attempts, per backend and reason', overRetried.length === 0, JSON.stringify(overRetried));
  report.check('every answer from the backup tier was counted as a fallback',
    sum(fallbacksCounted) >= fallbacks && (fallbacksCounted['frontier->backup'] ?? 0) === sum(fallbacksCounted),
    `${sum(fallbacksCounted)} counted, ${fallbacks} answers`);
  report.check('the breakers moved (switchyard_backend_breaker_transitions_total >= 2)', sum(transitionsCounted) >= 2, `${sum(transitionsCounted)}`);
  // Per backend: closed <= half_open <= open (each close follows a half-open, each half-open an
  // opening); sampling every 100 ms sees at most what the counter counted.
  const backends = [...new Set(Object.keys(transitionsCounted).map((k) => k.split('/')[0]))];
  const disordered = backends.filter((b) => !((transitionsCounted[`${b}/closed`] ?? 0) <= (transitionsCounted[`${b}/half_open`] ?? 0)
    && (transitionsCounted[`${b}/half_open`] ?? 0) <= (transitionsCounted[`${b}/open`] ?? 0)));
  report.check('breaker transitions are consistent (closed <= half_open <= open per backend; sampled <= counted)',
    disordered.length === 0 && transitions <= sum(transitionsCounted), `${disordered.join(',') || 'ordered'}; sampled ${transitions}`);
  report.check('no session exceptions', metricSum(metrics, 'switchyard_session_exceptions_total') === 0);

  // The audit log: intact, and nothing the policy kept at home reached the external backend.
  const verify = verifyAudit(auditFile);
  report.check('audit chain verifies', verify.ok, verify.output.split('\n')[0]);
  let completions = 0;
  const kept = [];
  scanAudit(auditFile, (r) => {
    if (r.phase !== 'completion') return;
    completions++;
    if (r.rule === 'restricted-stays-home') kept.push({ backend: r.backend, tier: r.tier });
  });
  const leaked = kept.filter((r) => ['cloud', 'cloud-backup'].includes(r.backend) || r.tier !== 'local');
  report.figure('audit_completions', completions);
  report.figure('audit_kept_self_hosted', kept.length);
  report.check('audit: requests kept on self-hosted backends were all restricted ones', kept.length >= results.filter((r) => r.kind === 'restricted').length * 0.99, `${kept.length}`);
  report.check('audit: none of them reached the external backend', leaked.length === 0, `${leaked.length} leaked`);
  const restrictedOut = results.filter((r) => r.kind === 'restricted' && routeOf(r) && routeOf(r) !== 'local');
  report.check('no restricted answer came from an external tier', restrictedOut.length === 0, `${restrictedOut.length}`);
});
