// Leak sweep: distinctive secrets and PII, made fresh for each run, planted in prompts, client
// keys, headers, model names, paths, field names, malformed bodies, the upstream's key and (the
// mocks echo the prompt) upstream answers, streams that break half-way included. None may appear
// in the gateway's logs, its metrics, its audit records or any error body a client got, and none
// may reach the external mock when the policy forbids it (blocked, or pseudonymized on the way
// out). Quick: each case 3 times; full: 20 times.
//   node tests/reliability/leak.mjs [--quick|--full] [--record]
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
  backendFor,
  chatBody,
  main,
  makeTempDir,
  mintKey,
  rawExchange,
  request,
  scanAudit,
  scrapeMetrics,
  startGateway,
  startMock,
  stopProcess,
  verifyAudit,
  watchdog,
} from './lib.mjs';

const rand = (n) => crypto.randomBytes(n).toString('hex');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const token = (n) => Array.from(crypto.randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');

// A Luhn-valid test card number that starts with 4 (15 random digits + check digit).
function card() {
  const digits = [4, ...Array.from(crypto.randomBytes(14), (b) => b % 10)];
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = digits[14 - i];
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  digits.push((10 - (sum % 10)) % 10);
  return digits.join('');
}

main('leak', async (report, { full }) => {
  watchdog(full ? 240_000 : 90_000, 'leak');
  const repeat = full ? 20 : 3;
  const planted = {
    email: `leak.${rand(4)}@example.com`,
    card: card(),
    github_token: `ghp_${token(36)}`,
    client_key_forged: `syk_${token(40)}`,
    upstream_key: `sk-upstream-${token(32)}`,
    marker: `ZQX${rand(6).toUpperCase()}`,  // a client-chosen string with no detector
  };
  const good = mintKey('leaker');
  planted.client_key = good.key;
  report.figure('planted_kinds', Object.keys(planted).length);

  const [local, cloud] = await Promise.all([
    startMock('local', ['--echo-chunk-bytes', 16]),
    startMock('cloud', ['--echo-chunk-bytes', 16, '--require-key', planted.upstream_key]),
  ]);
  const dir = makeTempDir('sy-leak-');
  const auditFile = path.join(dir, 'audit.jsonl');
  const config = {
    server: { listen: '127.0.0.1:0', workers: 2, shutdown_grace: '5s' },
    admin: { listen: '127.0.0.1:0' },
    keys: [{ id: 'leaker', hash: good.hash }],
    backends: [
      backendFor('local', local, { health_check: false }),
      backendFor('cloud', cloud, { location: 'external', api_key_env: 'LEAK_UPSTREAM_KEY', cost: { input_per_mtok: 1, output_per_mtok: 2 } }),
    ],
    tiers: { local: { backends: ['local'] }, frontier: { backends: ['cloud'] } },
    models: { gpt: { tier: 'frontier' } },
    dlp: {
      unknown_fields: 'reject',
      responses: { actions: [{ name: 'no-secrets-back', detectors: ['secrets'], action: 'redact' }] },
    },
    audit: { path: auditFile, durability: 'batch' },
  };
  const gateway = await startGateway(config, { dir, env: { LEAK_UPSTREAM_KEY: planted.upstream_key } });
  const auth = { authorization: `Bearer ${good.key}` };
  const chat = (model, text, extra = {}, headers = auth) =>
    request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions', headers, body: chatBody(model, text, extra) });

  const errorBodies = [];
  const answers = [];
  let current = '';
  const keep = (res) => {
    if (res.status >= 400) errorBodies.push(`${current} ${res.status}: ${res.body}`);
    else answers.push(res.body);
    return res;
  };
  const cases = {
    // Prompts: allowed to the self-hosted backend (echoed back), pseudonymized or blocked toward
    // the external one.
    prompt_local: () => chat('auto', `Mail ${planted.email}, card ${planted.card}, token ${planted.github_token}, ${planted.marker}`),
    prompt_local_stream: () => chat('auto', `Token ${planted.github_token} and ${planted.email}`, { stream: true }),
    prompt_external_pii: () => chat('gpt', `Please write to ${planted.email} about it.`),
    prompt_external_pii_stream: () => chat('gpt', `Please write to ${planted.email} about it.`, { stream: true }),
    prompt_external_card: () => chat('gpt', `Charge ${planted.card} today.`),
    prompt_external_secret: () => chat('gpt', `Use ${planted.github_token} for the repo.`),
    prompt_external_secret_in_system: () => chat('gpt', 'hi', { messages: [{ role: 'system', content: `key=${planted.github_token}` }, { role: 'user', content: 'hi' }] }),
    stream_breaks_after_secret: () => chat('auto', `${planted.github_token} ${planted.email} mock:disconnect_after=3`, { stream: true }),
    // Error paths: a client-chosen string everywhere the gateway might echo it.
    forged_key: () => chat('auto', 'hi', {}, { authorization: `Bearer ${planted.client_key_forged}` }),
    key_in_x_api_key: () => request({ port: gateway.port, method: 'POST', path: '/v1/messages', headers: { 'x-api-key': planted.client_key_forged, 'anthropic-version': '2023-06-01' }, body: { model: 'auto', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } }),
    model_name: () => chat(`${planted.marker}-${planted.email}`, 'hi'),
    path: () => request({ port: gateway.port, method: 'GET', path: `/v1/${planted.marker}/${encodeURIComponent(planted.email)}`, headers: auth }),
    request_id_header: () => chat('auto', 'hi', {}, { ...auth, 'x-request-id': `${planted.marker} ${planted.github_token}` }),
    unknown_field: () => chat('auto', 'hi', { [`${planted.marker}Field`]: planted.email }),
    unknown_field_snake: () => chat('auto', 'hi', { [`x_${planted.marker.toLowerCase()}`]: planted.card }),
    malformed_json: () => request({ port: gateway.port, method: 'POST', path: '/v1/chat/completions', headers: { ...auth, 'content-type': 'application/json' }, body: `{"model":"auto","messages":[{"role":"user","content":"${planted.github_token} ${planted.email}"}` }),
    wrong_type: () => chat('auto', 'hi', { temperature: `${planted.marker} ${planted.email}` }),
    bad_role: () => chat('auto', 'hi', { messages: [{ role: `${planted.marker}${planted.email}`, content: 'hi' }] }),
    upstream_error: () => chat('gpt', `An error please ${planted.marker} mock:error_status=500`),
  };
  const statuses = {};
  // The external mock keeps its last 64 requests: take each round's (fewer than 64) as it ends.
  const cloudLog = [];
  let cloudSeen = 0;
  for (let i = 0; i < repeat; i++) {
    for (const [name, run] of Object.entries(cases)) {
      current = name;
      const res = keep(await run());
      (statuses[name] ??= {})[res.status] = (statuses[name][res.status] ?? 0) + 1;
    }
    // A raw request whose head carries the planted values in odd places.
    const raw = await rawExchange(gateway.port,
      `GET /v1/models?${planted.marker}=${planted.github_token} HTTP/1.1\r\nHost: ${planted.marker}\r\nX-${planted.marker}: ${planted.email}\r\nAuthorization: Basic ${Buffer.from(`${planted.email}:${planted.github_token}`).toString('base64')}\r\n\r\n`);
    current = 'raw_head';
    if (raw.response) keep(raw.response);
    const count = (await cloud.stats()).requests;
    if (count > cloudSeen) cloudLog.push(...(await cloud.requests()).slice(-(count - cloudSeen)));
    cloudSeen = count;
  }
  report.figure('requests', repeat * (Object.keys(cases).length + 1));
  report.figure('statuses', statuses);

  const metrics = await scrapeMetrics(gateway);
  const cloudCount = (await cloud.stats()).requests;
  const exit = await stopProcess(gateway.proc, 10_000);
  report.check('the gateway exited 0 on SIGTERM (no sanitizer report, no crash)', exit?.code === 0, JSON.stringify(exit));
  const logs = gateway.proc.stderr + gateway.proc.stdout;
  const audit = fs.readdirSync(dir).filter((n) => n.startsWith('audit.jsonl')).map((n) => fs.readFileSync(path.join(dir, n), 'utf8')).join('');
  const cloudText = JSON.stringify(cloudLog);

  // The forms a value may take: as planted, digits only, base64 and URL-encoded.
  const forms = (v) => [v, v.replace(/[^0-9A-Za-z]/g, ''), Buffer.from(v).toString('base64'), encodeURIComponent(v)]
    .filter((f, i, all) => f.length >= 8 && all.indexOf(f) === i);
  const sinks = { logs, metrics, audit, error_bodies: errorBodies.join('\n') };
  const found = [];
  for (const [kind, value] of Object.entries(planted)) {
    for (const [sink, text] of Object.entries(sinks)) {
      const form = forms(value).find((f) => text.includes(f));
      if (form) {
        const line = text.split('\n').find((l) => l.includes(form));
        found.push(`${kind} in ${sink}: ${line.slice(0, 300)}`);
      }
    }
  }
  report.figure('log_bytes', logs.length);
  let auditRecords = 0;
  scanAudit(auditFile, () => auditRecords++);
  report.figure('audit_records', auditRecords);
  report.figure('error_bodies', errorBodies.length);
  report.check('no planted value in logs, metrics, audit records or error bodies', found.length === 0, found.join(', '));

  // The external mock: the PII only as pseudonyms, the card and the token never, and its own
  // key is fine there (it is its key); nothing of the client's keys either.
  const external = ['email', 'card', 'github_token', 'client_key', 'client_key_forged']
    .filter((kind) => forms(planted[kind]).some((f) => cloudText.includes(f)));
  report.figure('external_mock_requests', cloudCount);
  report.check('every request the external mock got was inspected', cloudLog.length === cloudCount, `${cloudLog.length}/${cloudCount}`);
  report.check('nothing the policy forbids reached the external mock', external.length === 0, external.join(', '));
  report.check('pseudonymized requests did reach it', cloudLog.some((r) => /<EMAIL_[A-Z0-9]+>/.test(JSON.stringify(r.body))));
  report.check('the self-hosted mock was allowed the values (the sweep planted them)', (await local.stats()).requests > 0);
  const tokenBack = answers.filter((a) => a.includes(planted.github_token)).length;
  report.check('answers carry no secret back (dlp.responses redacts)', tokenBack === 0, `${tokenBack} answers`);
  const verify = verifyAudit(auditFile);
  report.check('audit chain verifies', verify.ok, verify.output.split('\n')[0]);
});
