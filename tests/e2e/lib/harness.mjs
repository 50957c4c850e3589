// Shared helpers for the end-to-end tests: start mock model servers and the gateway on loopback,
// write policy files, talk HTTP(S) to them with raw sockets, node:http and curl, read metrics.
// Every process started here is registered and killed by stopAll() (call it in `after`), and
// again, with SIGKILL, when the test process exits for any reason.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const SWITCHYARD_BIN =
  process.env.SWITCHYARD_BIN || path.resolve(E2E_DIR, '../../build/gateway/cli/switchyard');
export const MOCK_BIN =
  process.env.SWITCHYARD_MOCK_BIN ||
  path.resolve(E2E_DIR, '../../build/examples/mock_llm/switchyard-mock');

export const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Process bookkeeping

const live = new Set();
const tempDirs = new Set();

// setpriv --pdeathsig makes the kernel kill our children if this process dies without running
// its exit handlers (SIGKILL from a test-runner timeout, for instance).
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

function killAllSync() {
  for (const proc of live) {
    try {
      proc.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function removeTempDirs() {
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  tempDirs.clear();
}

process.on('exit', () => {
  killAllSync();
  removeTempDirs();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAllSync();
    removeTempDirs();
    process.exit(128 + os.constants.signals[signal]);
  });
}

// Spawns `bin args` with piped stdio, registered for cleanup. `exited` resolves with
// {code, signal} once the process is gone; stdout/stderr are collected as text. `cwd` defaults to
// the test runner's.
export function spawnTracked(bin, args, { env, stdin = 'ignore', cwd } = {}) {
  const [command, argv] = SETPRIV
    ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', bin, ...args]]
    : [bin, args];
  const child = spawn(command, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  const proc = { child, pid: child.pid, stdout: '', stderr: '', exitInfo: null };
  live.add(proc);
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => (proc.stdout += d));
  child.stderr.on('data', (d) => (proc.stderr += d));
  proc.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(proc);
      proc.exitInfo = { code, signal };
      resolve(proc.exitInfo);
    });
    child.on('error', (err) => {
      live.delete(proc);
      proc.exitInfo = { code: null, signal: null, error: err };
      resolve(proc.exitInfo);
    });
  });
  return proc;
}

// Resolves {code, signal} when `proc` exits, or null after `timeoutMs`.
export async function waitExit(proc, timeoutMs) {
  return Promise.race([proc.exited, sleep(timeoutMs).then(() => null)]);
}

// SIGTERM, then SIGKILL if it has not exited after `graceMs`.
export async function stopProcess(proc, graceMs = 3000) {
  if (!proc || proc.exitInfo) {
    return proc?.exitInfo ?? null;
  }
  try {
    proc.child.kill('SIGTERM');
  } catch {
    // already gone
  }
  const info = await waitExit(proc, graceMs);
  if (info) {
    return info;
  }
  try {
    proc.child.kill('SIGKILL');
  } catch {
    // already gone
  }
  return proc.exited;
}

// Stops every process still running (call from `after`).
export async function stopAll() {
  await Promise.all([...live].map((proc) => stopProcess(proc, 2000)));
  killAllSync();
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `fn` (sync or async) until it returns a truthy value; throws `what` after `timeoutMs`.
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await fn();
      if (value) {
        return value;
      }
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
        (lastError ? ` (last error: ${lastError.message})` : ''));
    }
    await sleep(intervalMs);
  }
}

export function makeTempDir(prefix = 'sy-e2e-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
export async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Mock model servers

// Starts `switchyard-mock --port 0 --name NAME ...flags`; resolves once it printed its listening
// line. The result has port, url (http[s]://127.0.0.1:PORT), host URL helpers and stop().
export async function startMock(name, flags = [], { env } = {}) {
  const proc = spawnTracked(MOCK_BIN, ['--port', '0', '--name', name, ...flags.map(String)], { env });
  const line = await waitForOutput(proc, 'stdout', (l) => {
    const msg = tryJson(l);
    return msg && msg.msg === 'listening' && msg.name === name ? msg : null;
  }, `mock ${name} to listen`);
  const scheme = line.tls ? 'https' : 'http';
  const mock = {
    name,
    proc,
    port: line.port,
    tls: line.tls,
    url: `${scheme}://${HOST}:${line.port}`,
    // The URL to put in a backend definition (host overridable for TLS name checks).
    backendUrl: (host = HOST) => `${scheme}://${host}:${line.port}`,
    async lastRequest(opts) {
      const res = await mockGet(mock, '/mock/last-request', opts);
      return res.status === 204 ? null : JSON.parse(res.body);
    },
    async lastRequestHeaders(opts) {
      const res = await mockGet(mock, '/mock/last-request-headers', opts);
      return res.status === 204 ? null : JSON.parse(res.body);
    },
    async stats(opts) {
      return JSON.parse((await mockGet(mock, '/mock/stats', opts)).body);
    },
    // The mock's request log (GET /mock/requests): [{method, target, headers, body}], oldest first.
    async requests(opts) {
      return JSON.parse((await mockGet(mock, '/mock/requests', opts)).body);
    },
    async configure(controls, opts) {
      const res = await request({
        ...mockConnectOpts(mock, opts),
        method: 'POST',
        path: '/mock/config',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(controls),
      });
      if (res.status !== 200) {
        throw new Error(`POST /mock/config -> ${res.status}: ${res.body}`);
      }
      return JSON.parse(res.body);
    },
    stop: () => stopProcess(proc),
  };
  return mock;
}

function mockConnectOpts(mock, { ca } = {}) {
  return mock.tls
    ? { port: mock.port, tls: true, ca, rejectUnauthorized: Boolean(ca) }
    : { port: mock.port };
}

function mockGet(mock, p, opts) {
  return request({ ...mockConnectOpts(mock, opts), method: 'GET', path: p });
}

function tryJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Resolves with pick(line) for the first line of proc[stream] for which it is truthy; rejects if
// the process exits first or after `timeoutMs`.
export function waitForOutput(proc, stream, pick, what, timeoutMs = START_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    let scanned = 0;
    let done = false;
    const source = stream === 'stdout' ? proc.child.stdout : proc.child.stderr;
    const check = () => {
      const text = proc[stream];
      let nl;
      while (!done && (nl = text.indexOf('\n', scanned)) !== -1) {
        const line = text.slice(scanned, nl);
        scanned = nl + 1;
        const found = pick(line);
        if (found) {
          finish(null, found);
        }
      }
    };
    const onExit = () => {
      setImmediate(() => {
        check();
        finish(new Error(`process exited (${JSON.stringify(proc.exitInfo)}) before ${what}\n` +
          `stdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`));
      });
    };
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}\n` +
      `stdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`)), timeoutMs);
    function finish(err, value) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      source.off('data', onData);
      proc.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value);
    }
    const onData = () => setImmediate(check);
    source.on('data', onData);
    proc.child.on('exit', onExit);
    check();
    if (proc.exitInfo) onExit();
  });
}

// ---------------------------------------------------------------------------------------------
// Policy files and the gateway

// A small YAML emitter for policy objects: block mappings and sequences, plain scalars where
// YAML reads them back as the same string, JSON-quoted strings otherwise.
export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  const isScalar = (v) => v === null || typeof v !== 'object';
  const isEmpty = (v) => (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
  const lines = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isScalar(item)) lines.push(`${pad}- ${yamlScalar(item)}`);
      else if (isEmpty(item)) lines.push(`${pad}- ${Array.isArray(item) ? '[]' : '{}'}`);
      else lines.push(`${pad}-\n${toYaml(item, indent + 2)}`);
    }
  } else {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      if (isScalar(item)) lines.push(`${pad}${key}: ${yamlScalar(item)}`);
      else if (isEmpty(item)) lines.push(`${pad}${key}: ${Array.isArray(item) ? '[]' : '{}'}`);
      else lines.push(`${pad}${key}:\n${toYaml(item, indent + 2)}`);
    }
  }
  return lines.join('\n');
}

function yamlScalar(v) {
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  const plainSafe = /^[A-Za-z0-9_./][A-Za-z0-9_./:@+-]*$/.test(s) &&
    !/^(true|false|yes|no|on|off|null|~|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$/i.test(s) &&
    !s.includes(': ') && !s.includes(' #');
  return plainSafe ? s : JSON.stringify(s);
}

// A backend entry for `mock` (any extra keys override the defaults).
export function backendFor(name, mock, extra = {}) {
  return {
    name,
    kind: 'openai',
    url: mock.backendUrl ? mock.backendUrl() : mock,
    model: `${name}-model`,
    location: 'self-hosted',
    ...extra,
  };
}

// A complete policy object with loopback listeners on ephemeral ports; `server` and `limits`
// are merged into the defaults.
// Without `auth` or `keys`, the policy serves anonymous traffic (auth: {anonymous: true}), as every
// policy did before keys existed; pass `keys` (and `auth`, `teams`) to test authentication.
export function policy({
  backends, tiers, models, server = {}, limits, admin, auth, teams, keys,
} = {}) {
  const out = {
    server: {
      listen: `${HOST}:0`,
      workers: 2,
      shutdown_grace: '5s',
      ...server,
    },
    admin: { listen: `${HOST}:0`, ...admin },
  };
  // Access sections first, so tests can append to the file's last section (models).
  if (auth) out.auth = auth;
  else if (!keys) out.auth = { anonymous: true };
  if (teams) out.teams = teams;
  if (keys) out.keys = keys;
  out.backends = backends;
  out.tiers = tiers;
  if (limits) out.server.limits = { ...(server.limits ?? {}), ...limits };
  if (models) out.models = models;
  return out;
}

export function writeConfig(dir, config, fileName = 'switchyard.yaml') {
  const file = path.join(dir, fileName);
  fs.writeFileSync(file, typeof config === 'string' ? config : `${toYaml(config)}\n`);
  return file;
}

// Starts `switchyard serve --config FILE` (config: an object, a YAML string, or {file}) and waits
// for both listening lines on stderr. The result has port, adminPort, url, adminUrl, configFile,
// proc, logLines(), waitForLog(pred), signal(sig), waitExit(ms) and stop().
export async function startGateway(config, { env, dir = makeTempDir(), tls: useTls = false } = {}) {
  const configFile = config && config.file ? config.file : writeConfig(dir, config);
  // Run from its temp dir: relative paths in the policy (the default SQLite state file) land there.
  const proc = spawnTracked(SWITCHYARD_BIN, ['serve', '--config', configFile], { env, cwd: dir });
  const gateway = {
    proc,
    dir,
    configFile,
    logLines: () => proc.stderr.split('\n').map(tryJson).filter(Boolean),
    // The access-log lines (one per answered request), oldest first.
    accessLog: () => gateway.logLines().filter((l) => l.msg === 'request'),
    // Resolves with access-log line `index` (0-based) once written: the log phase runs after
    // the answer is sent, so a client may have its answer before the line exists.
    waitForAccessLog: (index, timeoutMs = 10_000) =>
      waitFor(() => gateway.accessLog()[index], { timeoutMs, what: `access-log line ${index}` }),
    waitForLog: (pred, what = 'log line', timeoutMs = 10_000) =>
      waitForOutput(proc, 'stderr', (l) => {
        const msg = tryJson(l);
        return msg && pred(msg) ? msg : null;
      }, what, timeoutMs),
    signal: (sig) => proc.child.kill(sig),
    waitExit: (ms) => waitExit(proc, ms),
    stop: () => stopProcess(proc, 8000),
  };
  const listening = (listener) => (l) => {
    const msg = tryJson(l);
    return msg && msg.msg === 'listening' && msg.listener === listener ? msg : null;
  };
  const [data, adminLine] = await Promise.all([
    waitForOutput(proc, 'stderr', listening('data'), 'the data listener'),
    waitForOutput(proc, 'stderr', listening('admin'), 'the admin listener'),
  ]);
  gateway.port = Number(data.port);
  gateway.adminPort = Number(adminLine.port);
  gateway.url = `${useTls ? 'https' : 'http'}://${HOST}:${gateway.port}`;
  gateway.adminUrl = `http://${HOST}:${gateway.adminPort}`;
  return gateway;
}

// Runs the CLI to completion: {code, signal, stdout, stderr}.
// `input` is written to its stdin (explain reads request bodies there).
export function runCli(args, { env, timeoutMs = 20_000, input } = {}) {
  const result = spawnSync(SWITCHYARD_BIN, args, {
    env: { ...process.env, ...env },
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

// ---------------------------------------------------------------------------------------------
// HTTP clients

// Sensitive-looking test values, built at run time so no such literal sits in the repository: an
// e-mail address, a test card number (Luhn-valid) and a GitHub token with a random body.
export const EMAIL = 'jane.doe@example.com';
export const CARD = ['4111', '1111', '1111', '1111'].join(' ');
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const GITHUB_TOKEN =
  `ghp_${Array.from(crypto.randomBytes(36), (b) => TOKEN_ALPHABET[b % TOKEN_ALPHABET.length]).join('')}`;

// Mints a key with the real CLI (`switchyard keys new`): {key, hash}; `team` is optional.
export function mintKey(id, team) {
  const out = runCli(['keys', 'new', '--id', id, ...(team ? ['--team', team] : [])]);
  if (out.code !== 0) throw new Error(`switchyard keys new failed: ${out.stderr}`);
  const key = /^\s*(syk_\S+)$/m.exec(out.stdout)?.[1];
  const hash = /hash: "([^"]+)"/.exec(out.stdout)?.[1];
  if (!key || !hash) throw new Error(`unexpected keys new output: ${out.stdout}`);
  return { key, hash };
}

export function chatBody(model, text = 'Say hello.', extra = {}) {
  return { model, messages: [{ role: 'user', content: text }], ...extra };
}

// One request on a fresh connection (node:http / node:https, no pooling). `body` may be a string,
// a Buffer or an object (sent as JSON); `ca` a PEM text or a file path. Resolves {status, headers, body, json}; rejects on a
// socket error or after `timeoutMs`.
export function request({
  port,
  method = 'GET',
  path: p = '/',
  headers = {},
  body,
  timeoutMs = 30_000,
  tls: useTls = false,
  ca,
  servername,
  rejectUnauthorized = true,
  agent = false,
}) {
  let payload = body;
  const hdrs = { ...headers };
  const caPem = typeof ca === 'string' && !ca.startsWith('-----BEGIN') ? fs.readFileSync(ca) : ca;
  if (payload !== undefined && typeof payload === 'object' && !Buffer.isBuffer(payload)) {
    payload = JSON.stringify(payload);
    hdrs['content-type'] ??= 'application/json';
  }
  const lib = useTls ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({
      host: HOST,
      port,
      method,
      path: p,
      headers: hdrs,
      agent,
      ca: caPem,
      servername,
      rejectUnauthorized,
      timeout: timeoutMs,
    });
    const timer = setTimeout(() => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, body: text, json: tryJson(text) });
      });
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// POST a JSON body to the gateway.
export function post(gateway, p, body, opts = {}) {
  return request({ port: gateway.port, method: 'POST', path: p, body, ...opts });
}

// Raw exchange on a fresh TCP connection: writes `data` (string/Buffer, or an array of them
// written in order), then reads until one complete HTTP response has arrived (or, with
// waitForClose, until the peer closes), the peer closes, or `timeoutMs` passes. Resolves
// {raw, closed, error, response, elapsedMs} where response is the parsed first response or null.
export function rawExchange(port, data, { timeoutMs = 10_000, waitForClose = false, endAfterWrite = false } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host: HOST, port });
    const chunks = [];
    let settled = false;
    const finish = (closed, error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ raw, closed, error, response: parseHttpResponse(raw), elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false, null), timeoutMs);
    socket.on('data', (c) => {
      chunks.push(c);
      if (!waitForClose && parseHttpResponse(Buffer.concat(chunks).toString('latin1'))) finish(false, null);
    });
    socket.on('end', () => finish(true, null));
    socket.on('close', () => finish(true, null));
    socket.on('error', (err) => finish(true, err));
    socket.on('connect', () => {
      for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
      if (endAfterWrite) socket.end();
    });
  });
}

// Parses one HTTP/1.1 response (Content-Length or chunked body) from the start of `raw`.
// Returns {status, headers, body, json, rest} or null if it is incomplete.
export function parseHttpResponse(raw) {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const lines = raw.slice(0, headEnd).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return null;
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] !== undefined ? `${headers[name]}, ${value}` : value;
  }
  const status = Number(m[1]);
  let pos = headEnd + 4;
  let body = '';
  if (status === 100 || status === 204 || status === 304) {
    // no body
  } else if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
    for (;;) {
      const lineEnd = raw.indexOf('\r\n', pos);
      if (lineEnd === -1) return null;
      const size = parseInt(raw.slice(pos, lineEnd), 16);
      if (Number.isNaN(size)) return null;
      pos = lineEnd + 2;
      if (size === 0) {
        const trailerEnd = raw.indexOf('\r\n', pos);
        if (trailerEnd === -1) return null;
        pos = trailerEnd + 2;
        break;
      }
      if (raw.length < pos + size + 2) return null;
      body += raw.slice(pos, pos + size);
      pos += size + 2;
    }
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (raw.length < pos + length) return null;
    body = raw.slice(pos, pos + length);
    pos += length;
  }
  body = Buffer.from(body, 'latin1').toString('utf8');
  return { status, headers, body, json: tryJson(body), rest: raw.slice(pos) };
}

// A persistent raw connection for keep-alive tests: send(text) resolves with the next complete
// response; `closed` resolves when the peer closes.
export class RawConnection {
  constructor(port, { tls: useTls = false, ca, servername } = {}) {
    this.buffer = '';
    this.waiters = [];
    this.socket = useTls
      ? tls.connect({ host: HOST, port, ca, servername })
      : net.connect({ host: HOST, port });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once(useTls ? 'secureConnect' : 'connect', resolve);
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.on('close', () => resolve(Date.now()));
    });
    this.socket.on('error', () => {});
    this.socket.on('data', (c) => {
      this.buffer += c.toString('latin1');
      this.pump();
    });
  }

  pump() {
    while (this.waiters.length > 0) {
      const parsed = parseHttpResponse(this.buffer);
      if (!parsed) return;
      this.buffer = parsed.rest;
      this.waiters.shift().resolve(parsed);
    }
  }

  write(text) {
    this.socket.write(text);
  }

  // Resolves with the next response; rejects after `timeoutMs` or when the peer closes first.
  next(timeoutMs = 15_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response in time')), timeoutMs);
      const waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.waiters.push(waiter);
      this.closed.then(() => {
        setImmediate(() => {
          clearTimeout(timer);
          reject(new Error(`connection closed before a response; got: ${JSON.stringify(this.buffer)}`));
        });
      });
      this.pump();
    });
  }

  async send(text, timeoutMs) {
    await this.connected;
    const pending = this.next(timeoutMs);
    this.write(text);
    return pending;
  }

  destroy() {
    this.socket.destroy();
  }
}

// A raw HTTP/1.1 request text with a JSON body.
export function rawPost(p, body, headers = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `POST ${p} HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\n${extra}\r\n${payload}`;
}

// Runs curl (always with --max-time) and resolves {code, stdout, stderr}.
export function curl(args, { timeoutMs = 30_000 } = {}) {
  const seconds = Math.max(1, Math.floor(timeoutMs / 1000));
  const proc = spawnTracked('curl', ['--max-time', String(seconds), '--noproxy', '*', ...args]);
  return proc.exited.then((info) => ({ code: info.code, stdout: proc.stdout, stderr: proc.stderr }));
}

// curl one request; resolves {code, status, headers, body, json, stderr}. Headers are those of
// the final response (after any 100 Continue).
export async function curlRequest(url, { method, headers = {}, body, extra = [], timeoutMs } = {}) {
  const dir = makeTempDir('sy-curl-');
  const headerFile = path.join(dir, 'headers');
  const bodyFile = path.join(dir, 'body');
  const args = ['-sS', '-D', headerFile, '-o', bodyFile, '-w', '%{http_code}'];
  if (method) args.push('-X', method);
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (body !== undefined) {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const bodyIn = path.join(dir, 'request');
    fs.writeFileSync(bodyIn, payload);
    args.push('--data-binary', `@${bodyIn}`);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
      args.push('-H', 'Content-Type: application/json');
    }
  }
  args.push(...extra, url);
  const result = await curl(args, { timeoutMs });
  const readOr = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  const headerText = readOr(headerFile);
  const text = readOr(bodyFile);
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
  const blocks = headerText.split(/\r\n\r\n/).filter((b) => b.startsWith('HTTP/'));
  const last = blocks.at(-1) ?? '';
  const hdrs = {};
  for (const line of last.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return {
    code: result.code,
    status: Number(result.stdout.trim()) || 0,
    headers: hdrs,
    body: text,
    json: tryJson(text),
    stderr: result.stderr,
  };
}

// ---------------------------------------------------------------------------------------------
// Server-sent events

// Splits an SSE body into its `data:` payloads (in order).
export function sseData(text) {
  return text
    .split(/\r?\n\r?\n/)
    .map((event) => event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
    .filter((d) => d.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Metrics

export async function scrapeMetrics(gateway) {
  const res = await request({ port: gateway.adminPort, path: '/metrics' });
  if (res.status !== 200) throw new Error(`/metrics -> ${res.status}`);
  return res.body;
}

// Parses Prometheus text into [{name, labels, value}].
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm;
      while ((lm = re.exec(m[3]))) labels[lm[1]] = lm[2].replace(/\\(.)/g, '$1');
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

// The value of the sample `name` whose label set is exactly `labels` (0 if absent).
export function metricValue(text, name, labels = {}) {
  const want = Object.entries(labels).sort();
  for (const s of parseMetrics(text)) {
    if (s.name !== name) continue;
    const have = Object.entries(s.labels).sort();
    if (have.length === want.length && have.every(([k, v], i) => k === want[i][0] && v === want[i][1])) {
      return s.value;
    }
  }
  return 0;
}

// Sum of every sample `name` whose labels include `labels`.
export function metricSum(text, name, labels = {}) {
  return parseMetrics(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

// ---------------------------------------------------------------------------------------------
// Certificates

// Writes a self-signed certificate and key for `cn` (with `san`, e.g.
// 'DNS:localhost,IP:127.0.0.1') into `dir`; returns {cert, key} paths.
export function makeSelfSignedCert(dir, { cn = 'localhost', san = 'DNS:localhost,IP:127.0.0.1', name = cn } = {}) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const result = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`,
    '-keyout', key, '-out', cert,
  ], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) {
    throw new Error(`openssl req failed: ${result.stderr}`);
  }
  return { cert, key };
}

// The error object of an OpenAI error body, after checking its shape.
export function errorOf(json) {
  if (!json || typeof json.error !== 'object' || json.error === null) {
    throw new Error(`not an OpenAI error body: ${JSON.stringify(json)}`);
  }
  return json.error;
}

export const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
