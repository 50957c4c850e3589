// Runs the Codex CLI (`codex exec`, from the pinned @openai/codex in node_modules: a native binary
// in its per-platform optional package) against a Responses base URL, offline and
// non-interactive: a temporary CODEX_HOME holding the config.toml below (the provider, and every
// feature that calls home switched off), no user config, no session files, a read-only sandbox.
// Anything that would still leave for another host is caught by a local proxy that refuses every
// connection and counts it. See tests/e2e/README.md for what Codex sends.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { E2E_DIR, HOST, makeTempDir, spawnTracked, stopProcess, waitExit } from './harness.mjs';

export const CODEX_BIN = process.env.CODEX_BIN || path.join(E2E_DIR, 'node_modules/.bin/codex');

// The config.toml that points Codex at `baseUrl` (ending in /v1) with the key from
// SWITCHYARD_API_KEY. `extra` is appended (TOML) to override or add settings.
export function codexConfig(baseUrl, { model = 'gpt-4o', extra = '' } = {}) {
  return `model = ${JSON.stringify(model)}
model_provider = "switchyard"
# OpenAI's hosted web search is a built-in tool the gateway refuses; Codex sends it by default.
web_search = "disabled"
check_for_update_on_startup = false

[model_providers.switchyard]
name = "Switchyard"
base_url = ${JSON.stringify(baseUrl)}
env_key = "SWITCHYARD_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[features]
plugins = false
remote_plugin = false
apps = false
image_generation = false
in_app_updates = false

[analytics]
enabled = false

${extra}`;
}

// A proxy on loopback that accepts and immediately closes every connection, counting them: set
// as HTTP(S)_PROXY, it turns any attempt to reach another host into a visible count.
async function startTrapProxy() {
  const trap = { connections: 0 };
  trap.server = net.createServer((socket) => {
    trap.connections += 1;
    socket.destroy();
  });
  await new Promise((resolve) => trap.server.listen(0, HOST, resolve));
  trap.url = `http://${HOST}:${trap.server.address().port}`;
  return trap;
}

// `codex exec PROMPT` in `cwd` (a temp dir by default) with `config` as its config.toml and `key`
// as the provider's key. Resolves {code, signal, stdout, stderr, timedOut, outsideConnections}:
// stdout is the final message, stderr the transcript; a run past `timeoutMs` is killed.
export async function runCodex({
  config,
  key,
  prompt,
  cwd = makeTempDir('sy-codex-cwd-'),
  timeoutMs = 60_000,
}) {
  const home = makeTempDir('sy-codex-home-');
  fs.writeFileSync(path.join(home, 'config.toml'), config);
  const trap = await startTrapProxy();
  try {
    const proc = spawnTracked(
      CODEX_BIN,
      ['exec', '--skip-git-repo-check', '--ephemeral', '--sandbox', 'read-only', '--color', 'never',
        prompt],
      {
        cwd,
        env: {
          CODEX_HOME: home,
          HOME: home,
          SWITCHYARD_API_KEY: key,
          OPENAI_API_KEY: undefined,
          OPENAI_BASE_URL: undefined,
          CODEX_API_KEY: undefined,
          HTTP_PROXY: trap.url,
          HTTPS_PROXY: trap.url,
          ALL_PROXY: trap.url,
          http_proxy: trap.url,
          https_proxy: trap.url,
          all_proxy: trap.url,
          NO_PROXY: `${HOST},localhost`,
          no_proxy: `${HOST},localhost`,
          RUST_LOG: 'warn',
          NO_COLOR: '1',
        },
      },
    );
    let info = await waitExit(proc, timeoutMs);
    const timedOut = info === null;
    if (timedOut) {
      info = await stopProcess(proc, 2000);
    }
    return {
      code: info?.code ?? null,
      signal: info?.signal ?? null,
      stdout: proc.stdout,
      stderr: proc.stderr,
      timedOut,
      outsideConnections: trap.connections,
    };
  } finally {
    trap.server.close();
  }
}
