// Crash safety of the audit log: the gateway is killed with SIGKILL 20 times while 8 keep-alive
// clients send chat requests (JSON and streamed) to a self-hosted and an external tier. The same
// audit file (durability: fsync) is continued by every restart. At the end `switchyard audit
// verify` must pass (torn last lines are warnings), and every request that got a complete
// response must have its record ("N of N"): nothing the client saw can be missing from the log.
//
// What the gateway guarantees (gateway/server/pipeline/audit.cc), and so what is asserted:
//   - external candidate + fsync: the decision record is written and fdatasync'ed before the
//     request is forwarded;
//   - every other answer waits until its request's record is written (handed to the kernel,
//     which survives kill -9): the decision record for forwarded requests, the completion record
//     for answers the gateway makes itself (here: 404 for an unknown model, one request in 8).
// So every request that got a response has a record ("N of N"). Completion records of forwarded
// requests are written after the response and may be lost by a kill: counted, not asserted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  HOST,
  backendFor,
  chatBody,
  makeTempDir,
  policy,
  runCli,
  sleep,
  startGateway,
  startMock,
  stopAll,
  writeConfig,
} from './lib/harness.mjs';

const KILLS = 20;
const CLIENTS = 8;
const KILL_AFTER_MS = [200, 600];
const UNKNOWN_MODEL = 'no-such-model';

// One request on `agent` (keep-alive); resolves {status, id, complete, headers: bool} and never
// rejects: a connection cut by the kill gives complete: false.
function chat(port, agent, model, stream) {
  const payload = JSON.stringify(chatBody(model, 'Tell me something short.', stream ? { stream: true } : {}));
  return new Promise((resolve) => {
    const out = { status: 0, id: null, complete: false, headers: false, body: '' };
    let settled = false;
    const finish = () => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(out);
      }
    };
    const req = http.request({
      host: HOST,
      port,
      method: 'POST',
      path: '/v1/chat/completions',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), 10_000);
    req.on('error', finish);
    req.on('response', (res) => {
      out.status = res.statusCode;
      out.id = res.headers['x-request-id'] ?? null;
      out.headers = true;
      res.setEncoding('utf8');
      res.on('data', (d) => (out.body += d));
      res.on('error', finish);
      res.on('aborted', finish);
      res.on('close', finish);
      res.on('end', () => {
        // A whole body: Node saw the end of the Content-Length body or the last chunk, and the
        // payload is what a finished answer looks like.
        const json = () => { try { return JSON.parse(out.body); } catch { return null; } };
        out.complete = res.complete && (stream ? out.body.includes('data: [DONE]')
          : res.statusCode === 200 ? json()?.object === 'chat.completion' : Boolean(json()?.error));
        finish();
      });
    });
    req.end(payload);
  });
}

// The records of an audit file: whole lines that parse (a torn line is skipped).
function readRecords(file) {
  const records = [];
  let torn = 0;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      torn += 1;
    }
  }
  return { records, torn };
}

describe('audit log under kill -9', { timeout: 90_000 }, () => {
  let dir;
  let configFile;
  let auditPath;

  before(async () => {
    const [local, cloud] = await Promise.all([
      startMock('local', ['--reply-tokens', '8', '--tokens-per-sec', '800']),
      startMock('cloud', ['--reply-tokens', '8', '--tokens-per-sec', '800']),
    ]);
    dir = makeTempDir('sy-crash-');
    auditPath = path.join(dir, 'audit.jsonl');
    const config = policy({
      backends: [
        backendFor('llama-local', local, { model: 'llama-3' }),
        backendFor('cloud', cloud, { model: 'gpt-4o', location: 'external' }),
      ],
      tiers: { local: { backends: ['llama-local'] }, frontier: { backends: ['cloud'] } },
    });
    config.audit = { path: auditPath, durability: 'fsync' };
    configFile = writeConfig(dir, config);
  });

  after(stopAll);

  test(`${KILLS} SIGKILLs under load: verify passes, every answered external request has a durable decision record`,
    { timeout: 85_000 }, async () => {
      const started = Date.now();
      const responses = [];  // every response whose head arrived: {status, id, complete, model, stream, round}
      let tornWarnings = 0;
      const killedAt = [];
      for (let round = 0; round < KILLS; round += 1) {
        const gateway = await startGateway({ file: configFile }, { dir });
        if (round > 0) {
          const opened = gateway.logLines().find((l) => l.msg === 'audit log opened') ??
            await gateway.waitForLog((l) => l.msg === 'audit log opened', 'audit log opened');
          assert.ok(Number(opened.next_seq) > 1, `restart ${round} continues the chain (next_seq ${opened.next_seq})`);
        }
        let stop = false;
        const clients = Array.from({ length: CLIENTS }, async (_, c) => {
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          let n = 0;
          try {
            while (!stop) {
              // Mostly forwarded requests to both tiers; one in 8 names an unknown model (answered
              // by the gateway itself, 404: only a completion record, written after the answer).
              const model = (n + c) % 8 === 7 ? UNKNOWN_MODEL : (n + c) % 2 === 0 ? 'frontier' : 'local';
              const stream = model !== UNKNOWN_MODEL && (n + c) % 3 === 0;
              n += 1;
              const r = await chat(gateway.port, agent, model, stream);
              if (r.headers) {
                responses.push({ status: r.status, id: r.id, complete: r.complete, model, stream, round, at: Date.now() });
              } else {
                // The gateway is gone (refused, reset before a head): stop this client.
                if (gateway.proc.exitInfo || stop) break;
                await sleep(5);
              }
            }
          } finally {
            agent.destroy();
          }
        });
        const [lo, hi] = KILL_AFTER_MS;
        await sleep(lo + Math.floor(Math.random() * (hi - lo + 1)));
        killedAt[round] = Date.now();
        gateway.signal('SIGKILL');
        const info = await gateway.waitExit(5_000);
        assert.equal(info?.signal, 'SIGKILL', `round ${round}: the gateway died of SIGKILL`);
        stop = true;
        await Promise.all(clients);
        tornWarnings += gateway.logLines().filter((l) => /torn line|lacks its newline/.test(l.msg ?? '')).length;
      }

      // The chain is intact across the 20 crashes and restarts.
      const verify = runCli(['audit', 'verify', auditPath]);
      assert.equal(verify.code, 0, `audit verify failed:\n${verify.stdout}${verify.stderr}`);
      const { records, torn } = readRecords(auditPath);
      const verified = Number(/^ok: (\d+) records/.exec(verify.stdout)?.[1]);
      assert.equal(verified, records.length, `verify counted ${verified} records, the file holds ${records.length}`);
      const boots = new Set(records.map((r) => r.boot_id)).size;
      assert.ok(boots > 1 && boots <= KILLS, `records from ${boots} gateway runs (one boot_id per run)`);
      assert.deepEqual(records.map((r) => r.seq), records.map((_, i) => i + 1), 'seq 1..N without a gap');

      const decision = new Set(records.filter((r) => r.phase === 'decision').map((r) => r.request_id));
      const completion = new Set(records.filter((r) => r.phase === 'completion').map((r) => r.request_id));
      const completed = responses.filter((r) => r.complete);
      const cut = responses.filter((r) => !r.complete);
      assert.ok(completed.length >= KILLS * 10, `enough load: ${completed.length} completed responses`);
      for (const r of completed) {
        assert.equal(r.status, r.model === UNKNOWN_MODEL ? 404 : 200, `round ${r.round}: unexpected status ${r.status} (${r.id})`);
        assert.ok(r.id, 'every response has an x-request-id');
      }
      assert.equal(new Set(completed.map((r) => r.id)).size, completed.length, 'request ids are unique');

      const count = (list, pred) => list.filter(pred).length;
      const external = completed.filter((r) => r.model === 'frontier');
      const local = completed.filter((r) => r.model === 'local');
      const refused = completed.filter((r) => r.model === UNKNOWN_MODEL);
      const forwarded = completed.filter((r) => r.model !== UNKNOWN_MODEL);
      const noRecord = completed.filter((r) => !decision.has(r.id) && !completion.has(r.id));
      const externalWithDecision = count(external, (r) => decision.has(r.id));
      // Guaranteed: durable before forwarding (fsync + external candidate).
      const summary = [
        `${externalWithDecision} of ${external.length} requests that got a response from the external tier have a durable decision record (guaranteed)`,
        `${count(completed, (r) => decision.has(r.id) || completion.has(r.id))} of ${completed.length} requests that got a response (all kinds) have a record`,
        `${count(local, (r) => decision.has(r.id))} of ${local.length} self-hosted responses have a decision record (written before the answer: guaranteed)`,
        `${count(refused, (r) => completion.has(r.id))} of ${refused.length} 404 answers (unknown model) have their completion record, their only record (written before the answer: guaranteed)`,
        `${count(forwarded, (r) => completion.has(r.id))} of ${forwarded.length} forwarded responses have a completion record (written after the response: not guaranteed)`,
        `without any record: ${noRecord.length}` + (noRecord.length === 0 ? '' : ` (${['local', UNKNOWN_MODEL].map((m) => `${m}: ${count(noRecord, (r) => r.model === m)}`).join(', ')}; ` +
          `all seen by the client within ${Math.max(...noRecord.map((r) => Math.abs(killedAt[r.round] - r.at)))} ms of the kill)`),
        `${count(cut.filter((r) => r.model === 'frontier'), (r) => decision.has(r.id))} of ${count(cut, (r) => r.model === 'frontier')} external responses cut by a kill (head received) have a decision record`,
        `${records.length} records, ${torn} torn lines left in the file, ${tornWarnings} torn-line warnings at restart; verify warnings: ${verify.stderr.split('\n').filter(Boolean).length}`,
        `${KILLS} kills in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      ];
      console.log(`crash test:\n  ${summary.join('\n  ')}`);
      const missing = external.filter((r) => !decision.has(r.id)).map((r) => `${r.id} (round ${r.round})`);
      assert.deepEqual(missing, [], 'external requests answered without a durable decision record');
      assert.deepEqual(noRecord.map((r) => `${r.id} (${r.model}, round ${r.round})`), [],
        'requests that got a response but have no record');
      // A head from the external tier also implies the record was durable before forwarding.
      const cutMissing = cut.filter((r) => r.model === 'frontier' && r.status === 200 && !decision.has(r.id));
      assert.deepEqual(cutMissing.map((r) => r.id), [], 'external responses whose head was sent lack a decision record');
    });
});
