// Time-to-first-byte client for tests/bench/proxy_overhead.sh.
//
// Sends N sequential POSTs over ONE keep-alive HTTP/1.1 connection (raw net socket, no http
// module, Nagle off) and measures, per request, the time from the write of the request to the
// arrival of the first body byte of the first SSE `data:` event (--expect json: of the body).
// Every response is read to its end and checked: status 200, well-formed framing (chunked or
// content-length), and a complete answer in the shape of the API the client speaks (--api):
//   openai     json: a `chat.completion` with choices; stream: ends with `data: [DONE]`
//   anthropic  json: a `message` with content blocks; stream: its last event is
//              `event: message_stop`, and there is no `data: [DONE]`
// Any failure exits 1 with the reason on stderr.
//
// usage: node ttfb.mjs --port P --body FILE [--host 127.0.0.1] [--api openai|anthropic|responses]
//        [--path PATH (default: /v1/chat/completions, /v1/messages or /v1/responses per --api)]
//        [--header "Name: value" (repeatable, e.g. "Authorization: Bearer KEY")]
//        [--n 200] [--warmup 20] [--expect stream|json] [--timeout-ms 5000]
// prints: TTFB n=200 median_us=… p99_us=… min_us=… max_us=…   (one line, on stdout)
import fs from 'node:fs';
import net from 'node:net';

function parseArgs(argv) {
  const opts = {
    host: '127.0.0.1', port: 0, path: '', body: '', n: 200, warmup: 20,
    expect: 'stream', timeoutMs: 5000, api: 'openai', headers: [],
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) fail(`${flag}: missing value`);
    switch (flag) {
      case '--host': opts.host = value; break;
      case '--port': opts.port = Number(value); break;
      case '--path': opts.path = value; break;
      case '--body': opts.body = value; break;
      case '--n': opts.n = Number(value); break;
      case '--warmup': opts.warmup = Number(value); break;
      case '--expect': opts.expect = value; break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      case '--api': opts.api = value; break;
      case '--header':
        if (!/^[A-Za-z0-9-]+:[^\r\n]*$/.test(value)) fail(`--header: not "Name: value": ${value}`);
        opts.headers.push(value);
        break;
      default: fail(`unknown flag ${flag}`);
    }
  }
  if (!(opts.port > 0 && opts.port < 65536)) fail('--port is required (1-65535)');
  if (!opts.body) fail('--body FILE is required');
  if (!(opts.n >= 1) || !(opts.warmup >= 0)) fail('--n must be >= 1 and --warmup >= 0');
  if (opts.expect !== 'stream' && opts.expect !== 'json') fail('--expect is stream or json');
  if (!Object.hasOwn(APIS, opts.api)) fail(`--api is ${Object.keys(APIS).join(' or ')}`);
  if (!opts.path) opts.path = APIS[opts.api].path;
  return opts;
}

function fail(message) {
  process.stderr.write(`ttfb: ${message}\n`);
  process.exit(1);
}

// What a complete answer looks like on each client API: the default path, the line the last SSE
// event of a stream must contain, and a check of a non-streamed body (null when it is fine).
const APIS = {
  openai: {
    path: '/v1/chat/completions',
    streamEnd: 'data: [DONE]',
    checkJson: (j) => (j.object === 'chat.completion' && Array.isArray(j.choices) &&
      j.choices.length > 0 && j.choices[0].message ? null : 'not a chat.completion with choices'),
  },
  anthropic: {
    path: '/v1/messages',
    streamEnd: 'event: message_stop',
    forbid: /(^|\n)data: \[DONE\]/,
    checkJson: (j) => (j.type === 'message' && Array.isArray(j.content) && j.stop_reason
      ? null : 'not a message with content and stop_reason'),
  },
  responses: {
    path: '/v1/responses',
    streamEnd: 'event: response.completed',
    forbid: /(^|\n)data: \[DONE\]/,
    checkJson: (j) => (j.object === 'response' && j.status === 'completed' && Array.isArray(j.output) &&
      j.output.length > 0 ? null : 'not a completed response with output'),
  },
};

// The reason a 200 response body is not a complete answer of `api`, or null.
function checkAnswer(api, expect, text) {
  if (expect === 'json') {
    let parsed;
    try { parsed = JSON.parse(text); } catch { return 'body is not JSON'; }
    const why = api.checkJson(parsed);
    return why && `${why}: ${text.slice(0, 200)}`;
  }
  const events = text.replace(/\r\n/g, '\n').trimEnd().split(/\n\n+/);
  if (!events[events.length - 1].split('\n').includes(api.streamEnd)) {
    return `stream did not end with ${api.streamEnd}: ...${text.slice(-200)}`;
  }
  if (api.forbid && api.forbid.test(text)) return `stream has ${api.forbid}: ...${text.slice(-200)}`;
  return null;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

// Incremental HTTP/1.1 response reader for one response at a time.
class ResponseReader {
  constructor(sse) { this.sse = sse; this.reset(); }

  reset() {
    this.buf = Buffer.alloc(0);
    this.headersDone = false;
    this.status = 0;
    this.chunked = false;
    this.remaining = -1;      // content-length body bytes still expected
    this.chunkLeft = -1;      // bytes left in the current chunk; -1 = expecting a size line
    this.trailers = false;    // after the 0-size chunk: reading trailers up to an empty line
    this.body = [];
    this.bodyBytes = 0;
    this.firstDataAt = 0n;    // hrtime of the first body byte of the first `data:` event
    this.scan = '';           // decoded body prefix, until the first `data:` is seen
    this.arrivals = [];       // [offset in scan, hrtime] of each body read, until then
    this.done = false;
    this.close = false;
  }

  // Feeds bytes received at `now`; returns leftover bytes beyond this response (pipelining is
  // not used, so leftovers are a protocol error the caller reports).
  feed(data, now) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    if (!this.headersDone) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) {
        if (this.buf.length > 65536) throw new Error('response headers too large');
        return null;
      }
      this.parseHeaders(this.buf.subarray(0, end).toString('latin1'));
      this.buf = this.buf.subarray(end + 4);
      this.headersDone = true;
    }
    if (this.chunked) this.readChunked(now); else this.readLength(now);
    if (this.done && this.buf.length) return this.buf;
    return null;
  }

  parseHeaders(text) {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    this.status = Number(m[1]);
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'transfer-encoding' && value.includes('chunked')) this.chunked = true;
      if (name === 'content-length') this.remaining = Number(value);
      if (name === 'connection' && value === 'close') this.close = true;
    }
    if (!this.chunked && this.remaining < 0) {
      throw new Error('response has neither chunked encoding nor content-length');
    }
  }

  onBody(bytes, now) {
    if (bytes.length === 0) return;
    this.body.push(bytes);
    this.bodyBytes += bytes.length;
    if (this.firstDataAt === 0n) {
      // The first SSE event normally starts the body; tolerate leading comments/blank lines by
      // timing the arrival of the first byte of the first line that starts with "data:" (which
      // may have arrived in an earlier read than the rest of the "data:" prefix).
      this.arrivals.push([this.scan.length, now]);
      this.scan += bytes.toString('latin1');
      let at = this.scan.startsWith('data:') ? 0 : this.scan.indexOf('\ndata:');
      if (at > 0) at += 1;
      if (!this.sse || (at < 0 && this.scan.length > 65536)) at = 0;  // not SSE: first byte
      if (at >= 0) {
        for (const [offset, time] of this.arrivals) {
          if (offset <= at) this.firstDataAt = time;
        }
      }
    }
  }

  readLength(now) {
    const take = Math.min(this.remaining, this.buf.length);
    this.onBody(this.buf.subarray(0, take), now);
    this.buf = this.buf.subarray(take);
    this.remaining -= take;
    if (this.remaining === 0) this.done = true;
  }

  readChunked(now) {
    for (;;) {
      if (this.trailers) {
        const end = this.buf.indexOf(CRLF);
        if (end < 0) return;
        this.buf = this.buf.subarray(end + 2);
        if (end === 0) { this.done = true; return; }
        continue;
      }
      if (this.chunkLeft < 0) {
        const end = this.buf.indexOf(CRLF);
        if (end < 0) return;
        const size = parseInt(this.buf.subarray(0, end).toString('latin1').split(';')[0], 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size line');
        this.buf = this.buf.subarray(end + 2);
        if (size === 0) { this.trailers = true; continue; }
        this.chunkLeft = size + 2;  // data + CRLF
        continue;
      }
      if (this.buf.length === 0) return;
      const take = Math.min(this.chunkLeft, this.buf.length);
      const dataPart = Math.max(0, Math.min(take, this.chunkLeft - 2));
      this.onBody(this.buf.subarray(0, dataPart), now);
      this.buf = this.buf.subarray(take);
      this.chunkLeft -= take;
      if (this.chunkLeft === 0) this.chunkLeft = -1;
    }
  }

  bodyText() { return Buffer.concat(this.body).toString('utf8'); }
}

function percentile(sorted, p) {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const body = fs.readFileSync(opts.body);
  const request = Buffer.concat([
    Buffer.from(
      `POST ${opts.path} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\n` +
      `Content-Type: application/json\r\n` +
      opts.headers.map((h) => `${h}\r\n`).join('') +
      `Accept: ${opts.expect === 'stream' ? 'text/event-stream' : 'application/json'}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`, 'latin1'),
    body,
  ]);

  const socket = net.createConnection({ host: opts.host, port: opts.port });
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  }).catch((e) => fail(`connect to ${opts.host}:${opts.port}: ${e.message}`));

  const reader = new ResponseReader(opts.expect === 'stream');
  let pending = null;  // {resolve, reject}
  socket.on('data', (data) => {
    const now = process.hrtime.bigint();
    if (!pending) { fail('unexpected bytes between responses'); }
    try {
      const extra = reader.feed(data, now);
      if (extra) throw new Error(`${extra.length} unexpected bytes after the response`);
      if (reader.done) { const p = pending; pending = null; p.resolve(); }
    } catch (e) {
      const p = pending; pending = null; p.reject(e);
    }
  });
  socket.on('error', (e) => { if (pending) { const p = pending; pending = null; p.reject(e); } });
  socket.on('close', () => {
    if (pending) { const p = pending; pending = null; p.reject(new Error('connection closed')); }
  });

  const samples = [];
  const total = opts.warmup + opts.n;
  for (let i = 0; i < total; ++i) {
    reader.reset();
    const finished = new Promise((resolve, reject) => { pending = { resolve, reject }; });
    const timer = setTimeout(() => {
      if (pending) { const p = pending; pending = null; p.reject(new Error('timed out')); }
    }, opts.timeoutMs);
    const start = process.hrtime.bigint();
    socket.write(request);
    try {
      await finished;
    } catch (e) {
      fail(`request ${i + 1}: ${e.message}`);
    } finally {
      clearTimeout(timer);
    }
    if (reader.status !== 200) {
      fail(`request ${i + 1}: HTTP ${reader.status}: ${reader.bodyText().slice(0, 300)}`);
    }
    const why = checkAnswer(APIS[opts.api], opts.expect, reader.bodyText());
    if (why) fail(`request ${i + 1}: ${why}`);
    if (reader.firstDataAt === 0n) fail(`request ${i + 1}: no body`);
    if (i >= opts.warmup) samples.push(Number(reader.firstDataAt - start) / 1000);
    if (reader.close) fail(`request ${i + 1}: server sent Connection: close`);
  }
  socket.end();
  samples.sort((a, b) => a - b);
  const fmt = (v) => v.toFixed(1);
  process.stdout.write(
    `TTFB n=${samples.length} median_us=${fmt(percentile(samples, 0.5))} ` +
    `p99_us=${fmt(percentile(samples, 0.99))} min_us=${fmt(samples[0])} ` +
    `max_us=${fmt(samples[samples.length - 1])}\n`);
  process.exit(0);
}

main();
