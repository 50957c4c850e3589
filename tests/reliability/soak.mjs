// Soak: 10 minutes (quick: 55 s) of mixed traffic (streams, DLP hits blocked and pseudonymized
// toward an external mock that echoes, pseudonyms restored in the answers, a key spending against
// a budget and one whose budget is spent) with a policy reload every 30 s (quick: 10 s). Targets:
// RSS growth under 5% after warm-up, no file descriptor growth, every answer as expected, the
// audit chain verifies, and the SQLite spend equals the audit records' cost.
//   node tests/reliability/soak.mjs [--quick|--full] [--record]
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import {
  EMAIL,
  CARD,
  backendFor,
  chatBody,
  fdCount,
  main,
  makeTempDir,
  metricSum,
  mintKey,
  percentile,
  round,
  rssKiB,
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
  writeConfig,
} from './lib.mjs';

const ROUTINE = 'Rewrite this sentence in a friendlier tone: please send the report.';

main('soak', async (report, { full }) => {
  const durationMs = full ? 600_000 : 55_000;
  const reloadEveryMs = full ? 30_000 : 10_000;
  const warmupMs = full ? 60_000 : 30_000;
  const connections = full ? 16 : 8;
  watchdog(durationMs + 120_000, 'soak');
  report.figure('duration_s', durationMs / 1000);
  report.figure('connections', connections);

  const [local, cloud] = await Promise.all([
    startMock('local', ['--threads', 2]),
    startMock('cloud', ['--threads', 2, '--echo-chunk-bytes', 24]),
  ]);
  const keys = { app: mintKey('app'), budgeted: mintKey('budgeted'), broke: mintKey('broke') };
  const dir = makeTempDir('sy-soak-');
  const auditFile = path.join(dir, 'audit.jsonl');
  const stateFile = path.join(dir, 'state.db');
  const makeConfig = (generation) => ({
    server: { listen: '127.0.0.1:0', workers: 2, shutdown_grace: '5s', access_log: false },
    admin: { listen: '127.0.0.1:0' },
    keys: [
      // The rpm changes with each reload so that every reload is a new policy version.
      { id: 'app', hash: keys.app.hash, limits: { rpm: 1_000_000 + generation } },
      { id: 'budgeted', hash: keys.budgeted.hash, limits: { budget_usd: { day: 1000 } } },
      { id: 'broke', hash: keys.broke.hash, limits: { budget_usd: { day: 0.0005 } } },
    ],
    backends: [
      backendFor('local', local, { health_check: false }),
      backendFor('cloud', cloud, { location: 'external', cost: { input_per_mtok: 3, output_per_mtok: 15 } }),
    ],
    tiers: { local: { backends: ['local'] }, frontier: { backends: ['cloud'] } },
    models: { gpt: { tier: 'frontier' } },
    state: { store: 'sqlite', sqlite: { path: stateFile } },
    audit: { path: auditFile, durability: 'batch' },
  });
  const gateway = await startGateway(makeConfig(0), { dir });
  const pid = gateway.proc.pid;

  const bearer = (k) => ({ authorization: `Bearer ${keys[k].key}` });
  const isJson200 = (r) => r.status === 200 && /"choices"/.test(r.body);
  const kinds = [
    // [share in 100, kind, request, expected(result)]
    [30, 'stream', (i) => ({ headers: bearer('app'), body: chatBody('auto', `${ROUTINE} ${i}`, { stream: true }) }),
      (r) => r.status === 200 && sseData(r.body).at(-1) === '[DONE]'],
    [20, 'plain', (i) => ({ headers: bearer('app'), body: chatBody('auto', `${ROUTINE} ${i}`) }), isJson200],
    // Pseudonymized toward the echoing external mock: the answer carries the address back.
    [15, 'pseudonymized', (i) => ({ headers: bearer('app'), body: chatBody('gpt', `Write to ${EMAIL} about item ${i}.`) }),
      (r) => isJson200(r) && r.body.includes(EMAIL) && !/<EMAIL_/.test(r.body)],
    [5, 'pseudonymized_stream', (i) => ({ headers: bearer('app'), body: chatBody('gpt', `Write to ${EMAIL} about item ${i}.`, { stream: true }) }),
      (r) => r.status === 200 && sseData(r.body).at(-1) === '[DONE]' && !/<EMAIL_/.test(r.body)],
    [5, 'blocked', (i) => ({ headers: bearer('app'), body: chatBody('gpt', `Charge ${CARD} for order ${i}.`) }),
      (r) => r.status === 403],
    [20, 'budgeted', (i) => ({ headers: bearer('budgeted'), body: chatBody('gpt', `${ROUTINE} ${i}`) }), isJson200],
    [5, 'broke', (i) => ({ headers: bearer('broke'), body: chatBody('gpt', `${ROUTINE} ${i}`) }),
      (r) => r.status === 200 || (r.status === 429 && /budget/i.test(r.body))],
  ];
  const table = kinds.flatMap(([share, ...rest]) => Array.from({ length: share }, () => rest));
  const make = (i) => {
    const [kind, build, expected] = table[(i * 37) % 100];
    return { kind, path: '/v1/chat/completions', ...build(i), check: expected };
  };

  const stopSamples = sampler(() => ({ rss: rssKiB(pid), fds: fdCount(pid) }), 1000);
  let reloads = 0;
  let running = true;
  const reloader = (async () => {
    while (running) {
      await sleep(reloadEveryMs);
      if (!running) break;
      writeConfig(dir, makeConfig(++reloads));
      gateway.signal('SIGHUP');
    }
  })();
  const started = Date.now();
  const results = await runLoad(gateway.port, { connections, durationMs, make, slim: true });
  running = false;
  await reloader;
  const samples = await stopSamples();
  const metrics = await scrapeMetrics(gateway);
  const exit = await stopProcess(gateway.proc, 10_000);
  report.check('the gateway exited 0 on SIGTERM (no sanitizer report, no crash)', exit?.code === 0, JSON.stringify(exit));

  const byKind = {};
  for (const r of results) {
    const k = (byKind[r.kind] ??= { n: 0, unexpected: 0 });
    k.n++;
    if (!r.check) {
      k.unexpected++;
      k.example ??= `${r.status} ${r.error ?? ''} ${r.body.slice(0, 160)}`;
    }
  }
  const unexpected = results.filter((r) => !r.check).length;
  report.figure('requests', results.length);
  report.figure('rps', round(results.length / ((Date.now() - started) / 1000)));
  report.figure('p99_ms', round(percentile(results.map((r) => r.ms), 99)));
  report.figure('by_kind', byKind);
  report.figure('reloads', reloads);

  // Memory and descriptors: the median of the first 5 samples after warm-up against the last 5.
  const median = (xs) => percentile(xs, 50);
  const after = samples.filter((s) => s.t >= started + warmupMs);
  const first = after.slice(0, 5);
  const last = after.slice(-5);
  const rssWarm = median(first.map((s) => s.v.rss));
  const rssEnd = median(last.map((s) => s.v.rss));
  const fdWarm = Math.max(...first.map((s) => s.v.fds));
  const fdEnd = Math.max(...last.map((s) => s.v.fds));
  const growth = (rssEnd - rssWarm) / rssWarm;
  report.figure('rss_after_warmup_mib', round(rssWarm / 1024));
  report.figure('rss_end_mib', round(rssEnd / 1024));
  report.figure('rss_growth_pct', round(growth * 100, 2));
  report.figure('fds_after_warmup', fdWarm);
  report.figure('fds_end', fdEnd);

  report.check('every answer as expected', unexpected === 0, `${unexpected} unexpected`);
  report.check('RSS growth after warm-up < 5%', after.length >= 10 && growth < 0.05, `${round(growth * 100, 2)}%`);
  report.check('no file descriptor growth (upstream pools may vary by 4)', fdEnd <= fdWarm + 4, `${fdWarm} -> ${fdEnd}`);
  const reloadsOk = metricSum(metrics, 'switchyard_policy_reloads_total', { result: 'ok' });
  report.check('every reload took effect', reloads > 0 && reloadsOk === reloads, `${reloadsOk}/${reloads}`);
  report.check('no session exceptions', metricSum(metrics, 'switchyard_session_exceptions_total') === 0);

  const verify = verifyAudit(auditFile);
  report.check('audit chain verifies', verify.ok, verify.output.split('\n')[0]);
  let completions = 0;
  let reloadRecords = 0;
  let recordCount = 0;
  const spend = { budgeted: { usd: 0, n: 0 }, broke: { usd: 0, n: 0 } };
  scanAudit(auditFile, (r) => {
    recordCount++;
    if (r.phase === 'reload' && r.outcome === 'ok') reloadRecords++;
    if (r.phase !== 'completion') return;
    completions++;
    if (spend[r.key_id]) {
      spend[r.key_id].usd += Number(r.cost_usd);
      spend[r.key_id].n++;
    }
  });
  report.figure('audit_records', recordCount);
  report.check('one completion record per request', completions === results.length, `${completions} for ${results.length}`);
  report.check('a reload record per reload', reloadRecords === reloads, `${reloadRecords}/${reloads}`);
  // Spend: SQLite (flushed at shutdown) against the audit records, per key with a budget.
  for (const key of ['budgeted', 'broke']) {
    const { usd: auditUsd, n } = spend[key];
    const rows = execFileSync('sqlite3', [stateFile, `SELECT period, micro_usd FROM spend WHERE scope = 'key:${key}'`], { encoding: 'utf8' })
      .trim().split('\n').filter(Boolean).map((l) => l.split('|'));
    const day = rows.filter(([period]) => period.length === 10);
    const sqliteUsd = day.reduce((sum, [, micro]) => sum + Number(micro), 0) / 1e6;
    report.figure(`spend_${key}_usd`, { sqlite: round(sqliteUsd, 6), audit: round(auditUsd, 6), requests: n });
    // Rounding: the audit record has 6 decimals per request, SQLite whole micro-dollars.
    report.check(`SQLite spend of '${key}' matches the audit records`, n > 0 && Math.abs(sqliteUsd - auditUsd) <= 1e-6 * n + 1e-9,
      `${sqliteUsd} vs ${auditUsd}`);
  }
});
