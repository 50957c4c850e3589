// Runs Claude Code (`claude -p`, from the pinned @anthropic-ai/claude-code in node_modules)
// against an Anthropic base URL, offline and non-interactive: a temporary HOME, an API key (no
// login), non-essential traffic (telemetry, auto-updater, error reports) off, and permission
// prompts replaced by an explicit tool allow-list. See tests/e2e/README.md for what it sends.
import path from 'node:path';

import { E2E_DIR, makeTempDir, spawnTracked, stopProcess, waitExit } from './harness.mjs';

export const CLAUDE_BIN = process.env.CLAUDE_BIN || path.join(E2E_DIR, 'node_modules/.bin/claude');

// The environment that keeps `claude -p` on `baseUrl` and nothing else. Variables that would
// redirect it (another token, config dir, proxy, Bedrock/Vertex) are removed: `undefined` values
// are dropped by child_process.
export function claudeEnv(baseUrl, home) {
  return {
    HOME: home,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: 'test-key',
    ANTHROPIC_AUTH_TOKEN: undefined,
    ANTHROPIC_MODEL: undefined,
    CLAUDE_CONFIG_DIR: undefined,
    CLAUDE_CODE_USE_BEDROCK: undefined,
    CLAUDE_CODE_USE_VERTEX: undefined,
    HTTP_PROXY: undefined,
    HTTPS_PROXY: undefined,
    http_proxy: undefined,
    https_proxy: undefined,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
    CI: '1',
    NO_COLOR: '1',
  };
}

// `claude -p PROMPT --tools Read --allowedTools Read` in `cwd` (a temp dir by default). Resolves
// {code, signal, stdout, stderr, timedOut}; a run past `timeoutMs` is killed (timedOut true).
// `args` replaces the tool flags; `env` is merged over claudeEnv().
export async function runClaude({
  baseUrl,
  prompt,
  cwd = makeTempDir('sy-claude-cwd-'),
  env = {},
  args = ['--tools', 'Read', '--allowedTools', 'Read'],
  timeoutMs = 60_000,
}) {
  const home = makeTempDir('sy-claude-home-');
  const proc = spawnTracked(
    process.execPath,
    [CLAUDE_BIN, '-p', prompt, '--output-format', 'text', '--no-session-persistence', ...args],
    { cwd, env: { ...claudeEnv(baseUrl, home), ...env } },
  );
  let info = await waitExit(proc, timeoutMs);
  const timedOut = info === null;
  if (timedOut) {
    info = await stopProcess(proc, 2000);
  }
  return { code: info?.code ?? null, signal: info?.signal ?? null, stdout: proc.stdout, stderr: proc.stderr, timedOut };
}
