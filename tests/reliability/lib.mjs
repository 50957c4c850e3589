// Shared pieces of the reliability scripts (tests/reliability/*.mjs): the command line (--quick or
// --full), a bounded closed-loop load generator on keep-alive connections, percentiles, RSS and
// file descriptors from /proc, audit log reading, target checks and the results file.
// Processes are started with the e2e harness (tests/e2e/lib/harness.mjs): loopback only, free
// ports, every child killed when the script exits.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { HOST, SWITCHYARD_BIN, sleep, stopAll } from '../e2e/lib/harness.mjs';

export * from '../e2e/lib/harness.mjs';

export const RELIABILITY_DIR = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_FILE = path.join(RELIABILITY_DIR, 'results.jsonl');

// --quick (default) or --full; --record appends the figures to results.jsonl (the full runs of
// `make reliability` do; the quick runs of `make test` do not, so tests leave the tree clean).
export function parseMode(argv = process.argv.slice(2)) {
  const full = argv.includes('--full');
  return { full, mode: full ? 'full' : 'quick', record: argv.includes('--record') };
}

// A hard stop for the whole script: it never outlives `ms`, whatever hangs.
export function watchdog(ms, name) {
  const timer = setTimeout(() => {
    console.error(`${name}: watchdog: still running after ${ms} ms, giving up`);
    stopAll().finally(() => process.exit(2));
  }, ms);
  timer.unref();
}

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// Load

// One request on `agent` (keep-alive). Resolves {status, headers, body, ms, error}: never
// rejects; a socket error or a timeout is `error` with status 0.
export function send(port, { method = 'POST', path: p, headers = {}, body, timeoutMs = 30_000, agent }) {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, ...result });
    };
    const req = http.request({
      host: HOST,
      port,
      method,
      path: p,
      agent,
      headers: {
        ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        ...headers,
      },
    });
    const timer = setTimeout(() => req.destroy(new Error('client timeout')), timeoutMs);
    req.on('error', (err) => finish({ status: 0, headers: {}, body: '', error: err.code || err.message }));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: err.code || err.message }));
      res.on('aborted', () => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: 'aborted' }));
      res.on('end', () => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// Closed-loop load: `connections` clients, each sending make(i) one after another on its own
// keep-alive connection, until `durationMs` has passed (or `maxRequests` were sent). Returns the
// results, each with the request's `kind` (from make) added. `slim` keeps only kind, status, ms,
// error and check (and the head of the body when the check failed): a 10-minute soak sends
// ~800,000 requests, whose bodies and headers do not fit in a JS heap. `perSecond` paces each
// connection to that many requests per second (a client with its own pace, not a benchmark that
// takes all the CPU it is given); a connection that falls behind sends its next one at once.
export async function runLoad(port, { connections, durationMs, maxRequests = Infinity, make, slim = false, perSecond = 0 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const results = [];
  const deadline = Date.now() + durationMs;
  let sent = 0;
  async function client(index) {
    const gap = perSecond > 0 ? 1000 / perSecond : 0;
    let next = performance.now() + (gap * index) / connections;
    while (Date.now() < deadline && sent < maxRequests) {
      if (gap > 0) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        next = Math.max(next + gap, performance.now());
      }
      const spec = make(sent++);
      const result = await send(port, { ...spec, agent });
      const check = spec.check?.(result);
      results.push(slim
        ? { kind: spec.kind, status: result.status, ms: result.ms, error: result.error, check, body: check === false ? result.body.slice(0, 300) : '' }
        : { kind: spec.kind, ...result, check });
    }
  }
  await Promise.all(Array.from({ length: connections }, (_, i) => client(i)));
  agent.destroy();
  return results;
}

// ---------------------------------------------------------------------------------------------
// The gateway process

export function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)[1]);
}

export function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

// Samples `fn()` every `intervalMs` until stop() is called; stop() resolves with the samples.
export function sampler(fn, intervalMs) {
  const samples = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        samples.push({ t: Date.now(), v: await fn() });
      } catch {
        // the process may be gone; stop() decides what that means
      }
      await sleep(intervalMs);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return samples;
  };
}

// Calls fn(record) for every record of the audit log (`file` and its rotated files
// `file*`), file by file, reading in 16 MiB pieces: a 10-minute soak writes more than a string
// can hold, so callers keep only what they count.
export function scanAudit(file, fn) {
  const dir = path.dirname(file);
  for (const name of fs.readdirSync(dir).filter((n) => n.startsWith(path.basename(file)))) {
    const fd = fs.openSync(path.join(dir, name), 'r');
    const piece = Buffer.alloc(16 << 20);
    let rest = Buffer.alloc(0);
    for (;;) {
      const n = fs.readSync(fd, piece, 0, piece.length, null);
      if (n === 0) break;
      const data = Buffer.concat([rest, piece.subarray(0, n)]);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        if (nl > start) fn(JSON.parse(data.toString('utf8', start, nl)));
        start = nl + 1;
      }
      rest = Buffer.from(data.subarray(start));
    }
    fs.closeSync(fd);
    if (rest.length > 0) fn(JSON.parse(rest.toString('utf8')));
  }
}

// `switchyard audit verify FILE...`: {ok, output}.
export function verifyAudit(file) {
  const dir = path.dirname(file);
  const files = fs.readdirSync(dir).filter((n) => n.startsWith(path.basename(file))).map((n) => path.join(dir, n));
  try {
    const out = execFileSync(SWITCHYARD_BIN, ['audit', 'verify', ...files], { encoding: 'utf8', timeout: 60_000 });
    return { ok: true, output: out.trim() };
  } catch (err) {
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() };
  }
}

// ---------------------------------------------------------------------------------------------
// Targets and results

// Collects named checks; finish() prints them with the figures, appends to the results file
// when recording, and exits non-zero when a target was missed.
export class Report {
  constructor(script, { mode, record }) {
    this.script = script;
    this.mode = mode;
    this.record = record;
    this.figures = {};
    this.checks = [];
    this.started = Date.now();
  }

  figure(name, value) {
    this.figures[name] = value;
  }

  check(name, ok, detail = '') {
    this.checks.push({ name, ok: Boolean(ok), detail: String(detail) });
  }

  async finish() {
    await stopAll();
    const passed = this.checks.every((c) => c.ok);
    const entry = {
      script: this.script,
      mode: this.mode,
      time: new Date().toISOString(),
      commit: gitCommit(),
      seconds: round((Date.now() - this.started) / 1000),
      passed,
      figures: this.figures,
      failed: this.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
    };
    console.log(`== ${this.script} (${this.mode}) figures`);
    for (const [k, v] of Object.entries(this.figures)) console.log(`  ${k}: ${JSON.stringify(v)}`);
    console.log(`== ${this.script} (${this.mode}) targets`);
    for (const c of this.checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    if (this.record) fs.appendFileSync(RESULTS_FILE, `${JSON.stringify(entry)}\n`);
    console.log(passed ? `${this.script}: all targets met` : `${this.script}: TARGETS MISSED`);
    process.exit(passed ? 0 : 1);
  }
}

function gitCommit() {
  try {
    return execFileSync('git', ['-C', RELIABILITY_DIR, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

// Runs `body(report)`; any exception is a failed check rather than a hang or a stack trace only.
export async function main(script, body) {
  const opts = parseMode();
  const report = new Report(script, opts);
  try {
    await body(report, opts);
  } catch (err) {
    report.check('script ran to the end', false, err.stack ?? err);
  }
  await report.finish();
}
