#!/usr/bin/env bash
# Proxy-overhead benchmark: what switchyard adds on top of the upstream, next to nginx (a plain C
# reverse proxy doing no policy work: the floor).
#
# In one run, against the same switchyard-mock upstream, it loads these targets with wrk:
#   direct        wrk -> mock
#   nginx         wrk -> nginx proxy_pass (upstream keepalive 64, 1 worker, access_log off) -> mock
#   sy-nodlp      wrk -> switchyard (workers: 1, one openai backend, one tier, no DLP) -> mock
#   sy-messages   sy-nodlp, the client speaking Anthropic Messages (POST /v1/messages, x-api-key)
#   sy-anthropic  sy-nodlp with a `kind: anthropic` backend (the mock's /v1/messages)
#   sy-passthrough  sy-anthropic's gateway loaded with Anthropic Messages (passed through)
#   sy-responses  sy-nodlp loaded with OpenAI Responses requests (POST /v1/responses), translated to
#                 chat completions for its chat backend and the answer back into Responses
#   sy-resp-pass  sy-nodlp with a backend serving `api: responses` (the mock's /v1/responses),
#                 loaded with Responses requests: the client's body passes through
#   switchyard, sy-full, sy-sqlite, sy-redis, sy-redis-sync   more gateway features (see
#                 start_switchyard below; sy-redis-sync: Redis limits with `sync: 100ms`)
#   sy-shadow     switchyard with `shadow:` naming a candidate policy (shadow mode)
# for mode json (non-streaming) and stream ("stream": true: role chunk + 20 content chunks +
# finish chunk + [DONE]) at 1, 16 and 64 connections, then measures time-to-first-byte of
# streams with tests/bench/ttfb.mjs, and prints one table and a switchyard-vs-nginx summary
# (with what DLP, limits and the Anthropic translations cost per request: differences of rows).
#
# Pinning: the proxy under test (nginx master+worker, switchyard) on CPU 0; wrk, the mock and
# the TTFB client on CPU 1. Everything listens on 127.0.0.1 only, on free ports picked here.
# Every process started here is stopped on exit; nginx runs in the foreground from a temp
# prefix with its own config (the system nginx config and services are never touched).
#
# usage: tests/bench/proxy_overhead.sh [--build-dir DIR] [--duration SECONDS] [--quick] [--limits-only]
#                                      [--shadow-only] [--responses-only]
#   --build-dir DIR   where switchyard and switchyard-mock were built (default: <repo>/build)
#   --duration S      seconds per wrk run (default 10)
#   --quick           2-second runs at 16 connections only (CI smoke test)
#   --limits-only     only the limit stores: sy-sqlite, sy-redis and sy-redis-sync, json at 16 connections, no
#                     TTFB; prints their CPU per request and the Redis - SQLite difference (the
#                     two limit rows of the full run minus each other: sy-nodlp cancels out)
#   --shadow-only     only switchyard and sy-shadow, json and stream at 16 connections, and the
#                     TTFB of both; prints what shadow evaluation costs per request (sy-shadow -
#                     switchyard) and what it does to a stream's first byte
#   --responses-only  only direct, nginx, sy-nodlp and the Responses rows (sy-responses,
#                     sy-resp-pass), json and stream at 16 connections, and their TTFB; prints
#                     what the Responses surface costs per request and per streamed event, each
#                     minus sy-nodlp (the same chat request on chat completions)
# Exit status: 0 when every step ran cleanly (PASS/MISS against the targets is informational);
# 1 when a step failed (a binary is missing, a process died, wrk saw socket errors or non-2xx
# responses, a response was malformed), with the reason on stderr.
# Env: BENCH_KEEP_TMP=1 keeps the temp dir (configs, logs, raw wrk output) for inspection.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

BUILD_DIR="$REPO/build"
DURATION=10
QUICK=0
LIMITS_ONLY=0
SHADOW_ONLY=0
RESPONSES_ONLY=0
TTFB_N=200
TTFB_WARMUP=20
REPLY_TOKENS=20  # the mock's content chunks per stream (the per-event figures divide by it)

BENCH_NAME=proxy_overhead
source "$HERE/lib.sh"

while (($#)); do
  case "$1" in
    --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a value"; BUILD_DIR=$2; shift 2 ;;
    --build-dir=*) BUILD_DIR=${1#*=}; shift ;;
    --duration) [[ $# -ge 2 ]] || die "--duration needs a value"; DURATION=$2; shift 2 ;;
    --duration=*) DURATION=${1#*=}; shift ;;
    --quick) QUICK=1; shift ;;
    --limits-only) LIMITS_ONLY=1; shift ;;
    --shadow-only) SHADOW_ONLY=1; shift ;;
    --responses-only) RESPONSES_ONLY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive integer (seconds)"
if ((QUICK)); then
  DURATION=2
  CONNS=(16)
else
  CONNS=(1 16 64)
fi
MODES=(json stream)
TARGETS=(direct nginx sy-nodlp sy-messages sy-anthropic sy-passthrough sy-responses sy-resp-pass
  switchyard sy-shadow sy-full sy-sqlite)
if ((RESPONSES_ONLY)); then
  CONNS=(16)
  TARGETS=(direct nginx sy-nodlp sy-responses sy-resp-pass)
fi
if ((SHADOW_ONLY)); then
  CONNS=(16)
  TARGETS=(switchyard sy-shadow)
fi
if ((LIMITS_ONLY)); then
  MODES=(json)
  CONNS=(16)
  TARGETS=(sy-sqlite)  # sy-redis is added when redis-server is found
fi

# ---------------------------------------------------------------------------------------------
# Prerequisites.
bench_require_build "build with: cmake -S '$REPO' -B '$BUILD_DIR' -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C '$BUILD_DIR' switchyard switchyard-mock, or pass --build-dir"
bench_require wrk nginx taskset node awk getconf timeout -- chat.lua ttfb.mjs chat_request.json
NGINX_BIN=$(command -v nginx)
bench_pin

# ---------------------------------------------------------------------------------------------
# Process bookkeeping: every process started here is stopped on exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sy-bench.XXXXXX")
bench_trap "$TMP"

# wait_for_port PORT PID NAME: until 127.0.0.1:PORT accepts connections (10 s at most).
wait_for_port() {
  local i
  for ((i = 0; i < 100; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    alive "$2" || die "$3 exited during startup"
    sleep 0.1
  done
  die "$3 is not accepting connections on 127.0.0.1:$1 after 10 s"
}

status_kb() {  # status_kb PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM)
  awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

kb_to_mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# Background load: CPU ticks (user+nice+system, all CPUs) spent by processes other than ours.
# Ours = what this script started (PIDS, CHILD_PIDS: the proxies, the mock, redis-server) and
# the waited-for children of this shell (wrk, via timeout).
sys_busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 }' /proc/stat; }
shell_child_ticks() {  # cutime+cstime of this shell: finished, waited-for children (wrk)
  awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[14] + f[15] }' "/proc/$$/stat"
}
NCPU=$(nproc)

# ---------------------------------------------------------------------------------------------
# Request bodies: the same ~1 KB chat request for every target, in the API its client speaks:
# openai (chat completions: chat_request.json as it is) or anthropic (Messages: the same model,
# system prompt, user message, max_tokens and temperature), each non-streaming (json) and
# streaming ("stream": true first).
tr -d '\n' <"$HERE/chat_request.json" >"$TMP/body-openai-json.json"
node -e '
  const fs = require("fs");
  const chat = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const text = (m) => (typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""));
  const system = chat.messages.filter((m) => m.role === "system").map(text).join("\n\n");
  const messages = chat.messages.filter((m) => m.role !== "system").map((m) => ({role: m.role, content: text(m)}));
  const body = {model: chat.model, max_tokens: chat.max_tokens};
  if (system) body.system = system;
  body.messages = messages;
  if (chat.temperature !== undefined) body.temperature = chat.temperature;
  process.stdout.write(JSON.stringify(body));
' "$TMP/body-openai-json.json" >"$TMP/body-anthropic-json.json" || die "could not derive the Anthropic body"
node -e '
  const fs = require("fs");
  const chat = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const text = (m) => (typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""));
  const system = chat.messages.filter((m) => m.role === "system").map(text).join("\n\n");
  const body = {model: chat.model};
  if (system) body.instructions = system;
  body.input = chat.messages.filter((m) => m.role !== "system").map((m) => ({role: m.role, content: text(m)}));
  body.max_output_tokens = chat.max_tokens;
  if (chat.temperature !== undefined) body.temperature = chat.temperature;
  process.stdout.write(JSON.stringify(body));
' "$TMP/body-openai-json.json" >"$TMP/body-responses-json.json" || die "could not derive the Responses body"
for api in openai anthropic responses; do
  sed 's/^{/{"stream":true,/' "$TMP/body-$api-json.json" >"$TMP/body-$api-stream.json"
  grep -q '^{"stream":true,' "$TMP/body-$api-stream.json" || die "could not derive the $api streaming body"
done

# ---------------------------------------------------------------------------------------------
# Start the upstream, nginx and switchyard.
note "build dir: $BUILD_DIR; ${DURATION}s per run; conns: ${CONNS[*]}; pinned: $([[ $PINNED == 1 ]] && echo 'proxy cpu0, load+mock cpu1' || echo no)"
b0=$(sys_busy_ticks); sleep 1; b1=$(sys_busy_ticks)
IDLE_BUSY=$(awk -v t=$((b1 - b0)) -v hz="$CLK_TCK" -v n="$NCPU" 'BEGIN { printf "%.0f", 100 * t / hz / n }')
if ((IDLE_BUSY > 10)); then
  note "WARNING: the machine is not idle (${IDLE_BUSY}% of $NCPU CPUs busy before start, loadavg $(cut -d' ' -f1-3 /proc/loadavg)); figures will be noisy"
fi

pick_port; MOCK_PORT=$PICKED
"${LOAD_PIN[@]}" "$MOCK_BIN" --host 127.0.0.1 --port "$MOCK_PORT" --name bench --threads 1 \
  --reply-tokens "$REPLY_TOKENS" >"$TMP/mock.out" 2>"$TMP/mock.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
wait_for_line "$TMP/mock.out" '"msg":"listening"' "$MOCK_PID" "switchyard-mock"
note "mock: pid $MOCK_PID on 127.0.0.1:$MOCK_PORT"

NGX="$TMP/nginx"
mkdir -p "$NGX/logs" "$NGX/tmp"
pick_port; NGX_JSON_PORT=$PICKED
pick_port; NGX_STREAM_PORT=$PICKED
cat >"$NGX/nginx.conf" <<EOF
# Generated by tests/bench/proxy_overhead.sh: the "plain C proxy" floor.
daemon off;
master_process on;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 64;
    keepalive_requests 100000000;
  }
  # json: default proxy buffering
  server {
    listen 127.0.0.1:$NGX_JSON_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
  # stream: proxy_buffering off, so each SSE chunk is relayed as it arrives
  server {
    listen 127.0.0.1:$NGX_STREAM_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
"${PROXY_PIN[@]}" "$NGINX_BIN" -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" \
  >"$NGX/logs/stdout.log" 2>&1 &
NGX_MASTER=$!
PIDS+=("$NGX_MASTER")
wait_for_port "$NGX_JSON_PORT" "$NGX_MASTER" "nginx"
wait_for_port "$NGX_STREAM_PORT" "$NGX_MASTER" "nginx"
NGX_WORKER=""
for ((i = 0; i < 50; i++)); do
  NGX_WORKER=$(cat "/proc/$NGX_MASTER/task/$NGX_MASTER/children" 2>/dev/null | awk '{ print $1 }')
  [[ -z "$NGX_WORKER" ]] && command -v pgrep >/dev/null && NGX_WORKER=$(pgrep -P "$NGX_MASTER" | head -n 1)
  [[ -n "$NGX_WORKER" ]] && break
  sleep 0.1
done
[[ -n "$NGX_WORKER" ]] || { show_log "$NGX/logs/error.log"; die "could not find the nginx worker process"; }
CHILD_PIDS+=("$NGX_WORKER")
note "nginx: master $NGX_MASTER, worker $NGX_WORKER on 127.0.0.1:$NGX_JSON_PORT (json), :$NGX_STREAM_PORT (stream)"

# Two switchyard instances on the same core (only one is loaded at a time): `switchyard` with DLP
# on both ways (the default detector pack and action rules on prompts, and a response rule, so
# every answer and stream event is scanned too), and `sy-nodlp` with no detector at all. The
# difference is what DLP costs per request.
# start_switchyard DIR DLP_YAML [KEY_EXTRA_YAML] [BACKEND_EXTRA_YAML] [BACKEND_KIND] -> STARTED_PID STARTED_PORT
# BACKEND_KIND (default openai): the `kind` of the one backend, the mock either way.
start_switchyard() {
  local dir=$1 dlp=$2 extra=${3:-} backend_extra=${4:-} kind=${5:-openai} port admin logged
  mkdir -p "$dir"
  pick_port; port=$PICKED
  pick_port; admin=$PICKED
  cat >"$dir/switchyard.yaml" <<EOF
# Generated by tests/bench/proxy_overhead.sh.
server:
  listen: 127.0.0.1:$port
  workers: 1
admin:
  listen: 127.0.0.1:$admin
backends:
  - name: mock
    kind: $kind
    url: http://127.0.0.1:$MOCK_PORT
    model: bench-model
$backend_extra
tiers:
  default:
    backends: [mock]
keys:
  - id: bench
    hash: "$BENCH_KEY_HASH"
$extra
$dlp
EOF
  "${PROXY_PIN[@]}" "$SY_BIN" serve --config "$dir/switchyard.yaml" >"$dir/stdout.log" 2>"$dir/stderr.log" &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  wait_for_line "$dir/stderr.log" '"msg":"listening".*"listener":"data"' "$STARTED_PID" "switchyard"
  logged=$(grep '"msg":"listening"' "$dir/stderr.log" | grep '"listener":"data"' | head -n 1 |
    sed -n 's/.*"port":"\{0,1\}\([0-9][0-9]*\).*/\1/p')
  [[ "$logged" == "$port" ]] || die "switchyard reports data port '$logged', expected $port"
  STARTED_PORT=$port
}
# Every switchyard authenticates the same key (wrk and the TTFB client send it to every target;
# direct and nginx ignore it). sy-sqlite adds rate limits and a budget on that key, counted in the
# embedded store (SQLite), and sy-redis the same in a local redis-server: their rows minus
# sy-nodlp's are what limits cost per request.
KEY_OUT=$("$SY_BIN" keys new --id bench) || die "switchyard keys new failed"
BENCH_KEY=$(awk '/^ *syk_/ { print $1; exit }' <<<"$KEY_OUT")
BENCH_KEY_HASH=$(sed -n 's/.*hash: "\(.*\)".*/\1/p' <<<"$KEY_OUT")
[[ -n "$BENCH_KEY" && -n "$BENCH_KEY_HASH" ]] || die "could not read the key from: $KEY_OUT"
LIMITS_YAML="    limits: {rpm: 4000000000, tpm: 4000000000, concurrency: 100000, budget_usd: {day: 1000000000}}"
SYD="$TMP/switchyard"
start_switchyard "$SYD" "dlp:
  responses:
    actions:
      - {name: no-secrets-back, detectors: [secrets], action: redact}"
SY_PID=$STARTED_PID; SY_PORT=$STARTED_PORT
# sy-shadow: the switchyard instance's policy with `shadow:` naming a candidate that decides
# alike, so each request costs the two dry runs and nothing more (no disagreement to count or
# audit). Its rows minus switchyard's are what shadow evaluation costs.
SYS="$TMP/sy-shadow"
mkdir -p "$SYS"
cat >"$SYS/candidate.yaml" <<EOC
backends:
  - {name: mock, kind: openai, url: http://127.0.0.1:$MOCK_PORT, model: bench-model}
tiers:
  default: {backends: [mock]}
keys:
  - id: bench
    hash: "$BENCH_KEY_HASH"
dlp:
  responses:
    actions:
      - {name: no-secrets-back, detectors: [secrets], action: redact}
EOC
start_switchyard "$SYS" "shadow: candidate.yaml
dlp:
  responses:
    actions:
      - {name: no-secrets-back, detectors: [secrets], action: redact}"
SYS_PID=$STARTED_PID; SYS_PORT=$STARTED_PORT
SYN="$TMP/sy-nodlp"
start_switchyard "$SYN" "dlp: {default_pack: false}"
SYN_PID=$STARTED_PID; SYN_PORT=$STARTED_PORT
# sy-messages: sy-nodlp's configuration in its own process, loaded with Anthropic Messages
# requests (see api_of): its rows minus sy-nodlp's are what the inbound translation costs
# (decoding the Messages body, encoding the answer or event stream back).
SYM="$TMP/sy-messages"
start_switchyard "$SYM" "dlp: {default_pack: false}"
SYM_PID=$STARTED_PID; SYM_PORT=$STARTED_PORT
# sy-anthropic: sy-nodlp with a `kind: anthropic` backend (the mock's POST /v1/messages; no
# api_key_env, the mock takes any key; the client's max_tokens is sent): its rows minus
# sy-nodlp's are what the outbound translation costs (the Messages body out, the answer or event
# stream back into chat completions).
SYA="$TMP/sy-anthropic"
start_switchyard "$SYA" "dlp: {default_pack: false}" "" "" anthropic
SYA_PID=$STARTED_PID; SYA_PORT=$STARTED_PORT
# sy-passthrough: the same configuration in its own process, loaded with Anthropic Messages: the
# client's body passes through to the Anthropic backend (model and cap set, thinking signatures
# kept), the answer comes back through the canonical form.
SYP="$TMP/sy-passthrough"
start_switchyard "$SYP" "dlp: {default_pack: false}" "" "" anthropic
SYP_PID=$STARTED_PID; SYP_PORT=$STARTED_PORT
# sy-responses: sy-nodlp's configuration in its own process, loaded with OpenAI Responses
# requests: decoded into the canonical chat request, forwarded to the chat backend, the answer or
# event stream encoded back into Responses. Its rows minus sy-nodlp's are what that costs.
SYRI="$TMP/sy-responses"
start_switchyard "$SYRI" "dlp: {default_pack: false}"
SYRI_PID=$STARTED_PID; SYRI_PORT=$STARTED_PORT
# sy-resp-pass: the same with a backend serving `api: responses` (the mock's /v1/responses):
# the client's Responses body passes through (model and cap set), the answer comes back through
# the canonical form (the Responses translator, then the Responses encoder).
SYRP="$TMP/sy-resp-pass"
start_switchyard "$SYRP" "dlp: {default_pack: false}" "" "    api: responses"
SYRP_PID=$STARTED_PID; SYRP_PORT=$STARTED_PORT
# sy-full: everything the whole-gateway target names at once: auth, DLP on prompts (default pack
# and action rules), difficulty classification and routing rules, the audit log with
# durability: fsync (in the bench's temporary directory, on disk here), the access log and
# metrics. Its backend is declared external, so every request waits for its decision record's
# fdatasync (group commit) before it is forwarded: the most expensive audit path.
SYF="$TMP/sy-full"
AUDIT_DIR="$TMP/audit"  # on disk (not tmpfs) here; fsync costs what it costs
mkdir -p "$AUDIT_DIR"
start_switchyard "$SYF" "routing:
  - {name: restricted-stays-home, when: {sensitivity: '>= restricted'}, route: default}
  - {name: hard-goes-out, when: {difficulty: complex, models: [auto]}, route: default}
  - {name: routine, when: {models: [auto]}, route: default}
audit: {path: $AUDIT_DIR/audit.jsonl, durability: fsync}" "" "    location: external
    cost: {input_per_mtok: 2.5, output_per_mtok: 10}"
SYF_PID=$STARTED_PID; SYF_PORT=$STARTED_PORT
SYQ="$TMP/sy-sqlite"
start_switchyard "$SYQ" "dlp: {default_pack: false}
state: {store: sqlite, sqlite: {path: $SYQ/state.db}}" "$LIMITS_YAML"
SYQ_PID=$STARTED_PID; SYQ_PORT=$STARTED_PORT
if command -v redis-server >/dev/null; then
  pick_port; REDIS_PORT=$PICKED
  mkdir -p "$TMP/redis"
  "${LOAD_PIN[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$TMP/redis" >"$TMP/redis/out.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for_line "$TMP/redis/out.log" 'Ready to accept connections' "$REDIS_PID" "redis-server"
  SYR="$TMP/sy-redis"
  start_switchyard "$SYR" "dlp: {default_pack: false}
state: {store: redis, redis: {url: 'redis://127.0.0.1:$REDIS_PORT/0', timeout: 1s, fail: closed}}" "$LIMITS_YAML"
  SYR_PID=$STARTED_PID; SYR_PORT=$STARTED_PORT
  # The same limits decided on each replica's counters, synced with Redis every 100 ms.
  SYRS="$TMP/sy-redis-sync"
  start_switchyard "$SYRS" "dlp: {default_pack: false}
state: {store: redis, redis: {url: 'redis://127.0.0.1:$REDIS_PORT/0', timeout: 1s, fail: closed, sync: 100ms}}" "$LIMITS_YAML"
  SYRS_PID=$STARTED_PID; SYRS_PORT=$STARTED_PORT
  ((SHADOW_ONLY || RESPONSES_ONLY)) || TARGETS+=(sy-redis sy-redis-sync)
else
  note "redis-server not found: no sy-redis row"
fi
sleep 0.3
SY_IDLE_KB=$(status_kb "$SY_PID" VmRSS)
note "switchyard: pid $SY_PID on 127.0.0.1:$SY_PORT, no-DLP instance pid $SYN_PID on :$SYN_PORT; idle RSS $(kb_to_mb "$SY_IDLE_KB") MB"

port_of() {  # port_of TARGET MODE
  case "$1" in
    direct) echo "$MOCK_PORT" ;;
    nginx) [[ $2 == stream ]] && echo "$NGX_STREAM_PORT" || echo "$NGX_JSON_PORT" ;;
    switchyard) echo "$SY_PORT" ;;
    sy-nodlp) echo "$SYN_PORT" ;;
    sy-messages) echo "$SYM_PORT" ;;
    sy-anthropic) echo "$SYA_PORT" ;;
    sy-passthrough) echo "$SYP_PORT" ;;
    sy-responses) echo "$SYRI_PORT" ;;
    sy-resp-pass) echo "$SYRP_PORT" ;;
    sy-shadow) echo "$SYS_PORT" ;;
    sy-full) echo "$SYF_PORT" ;;
    sy-sqlite) echo "$SYQ_PORT" ;;
    sy-redis) echo "$SYR_PORT" ;;
    sy-redis-sync) echo "$SYRS_PORT" ;;
  esac
}
proxy_pids() {  # PIDs whose CPU is charged to TARGET
  case "$1" in
    direct) ;;
    nginx) echo "$NGX_MASTER $NGX_WORKER" ;;
    switchyard) echo "$SY_PID" ;;
    sy-nodlp) echo "$SYN_PID" ;;
    sy-messages) echo "$SYM_PID" ;;
    sy-anthropic) echo "$SYA_PID" ;;
    sy-passthrough) echo "$SYP_PID" ;;
    sy-responses) echo "$SYRI_PID" ;;
    sy-resp-pass) echo "$SYRP_PID" ;;
    sy-shadow) echo "$SYS_PID" ;;
    sy-full) echo "$SYF_PID" ;;
    sy-sqlite) echo "$SYQ_PID" ;;
    sy-redis) echo "$SYR_PID $REDIS_PID" ;;
    sy-redis-sync) echo "$SYRS_PID $REDIS_PID" ;;
  esac
}
rss_pid() {  # PID whose peak RSS is reported for TARGET
  case "$1" in
    direct) ;;
    nginx) echo "$NGX_WORKER" ;;
    switchyard) echo "$SY_PID" ;;
    sy-nodlp) echo "$SYN_PID" ;;
    sy-messages) echo "$SYM_PID" ;;
    sy-anthropic) echo "$SYA_PID" ;;
    sy-passthrough) echo "$SYP_PID" ;;
    sy-responses) echo "$SYRI_PID" ;;
    sy-resp-pass) echo "$SYRP_PID" ;;
    sy-shadow) echo "$SYS_PID" ;;
    sy-full) echo "$SYF_PID" ;;
    sy-sqlite) echo "$SYQ_PID" ;;
    sy-redis) echo "$SYR_PID" ;;
    sy-redis-sync) echo "$SYRS_PID" ;;
  esac
}
check_alive() {
  alive "$MOCK_PID" || { show_log "$TMP/mock.err"; die "switchyard-mock died"; }
  alive "$NGX_MASTER" && alive "$NGX_WORKER" || { show_log "$NGX/logs/error.log"; die "nginx died"; }
  alive "$SY_PID" || { show_log "$SYD/stderr.log"; die "switchyard died"; }
  alive "$SYN_PID" || { show_log "$SYN/stderr.log"; die "switchyard (no DLP) died"; }
  alive "$SYM_PID" || { show_log "$SYM/stderr.log"; die "switchyard (Anthropic inbound) died"; }
  alive "$SYA_PID" || { show_log "$SYA/stderr.log"; die "switchyard (Anthropic backend) died"; }
  alive "$SYP_PID" || { show_log "$SYP/stderr.log"; die "switchyard (Anthropic passthrough) died"; }
  alive "$SYRI_PID" || { show_log "$SYRI/stderr.log"; die "switchyard (Responses inbound) died"; }
  alive "$SYRP_PID" || { show_log "$SYRP/stderr.log"; die "switchyard (Responses passthrough) died"; }
  alive "$SYF_PID" || { show_log "$SYF/stderr.log"; die "switchyard (full) died"; }
  alive "$SYS_PID" || { show_log "$SYS/stderr.log"; die "switchyard (shadow) died"; }
  alive "$SYQ_PID" || { show_log "$SYQ/stderr.log"; die "switchyard (sqlite limits) died"; }
  [[ -z "${SYR_PID:-}" ]] || alive "$SYR_PID" || { show_log "$SYR/stderr.log"; die "switchyard (redis limits) died"; }
  [[ -z "${SYRS_PID:-}" ]] || alive "$SYRS_PID" || { show_log "$SYRS/stderr.log"; die "switchyard (redis limits, sync) died"; }
}

# What the client of TARGET speaks, and so the request's path, body and headers and what a
# complete answer looks like (ttfb.mjs --api): openai (chat completions, the key as a Bearer
# token), anthropic (Messages, the key in x-api-key, as Anthropic's clients send it) or responses
# (OpenAI Responses, a Bearer token).
api_of() {
  case "$1" in
    sy-messages | sy-passthrough) echo anthropic ;;
    sy-responses | sy-resp-pass) echo responses ;;
    *) echo openai ;;
  esac
}
path_for() {  # path_for API
  case "$1" in
    anthropic) echo /v1/messages ;;
    responses) echo /v1/responses ;;
    *) echo /v1/chat/completions ;;
  esac
}
body_for() { echo "$TMP/body-$1-$2.json"; }  # body_for API MODE
headers_for() {  # headers_for API: one "Name: value" per line (direct and nginx ignore them)
  if [[ $1 == anthropic ]]; then
    printf 'x-api-key: %s\nanthropic-version: 2023-06-01\n' "$BENCH_KEY"
  else
    printf 'Authorization: Bearer %s\n' "$BENCH_KEY"
  fi
}

# ---------------------------------------------------------------------------------------------
# Preflight: every target answers 200 with a complete response in both modes.
ttfb() {  # ttfb TARGET MODE N WARMUP -> prints the client's TTFB line
  local out api header args=()
  api=$(api_of "$1")
  while IFS= read -r header; do args+=(--header "$header"); done < <(headers_for "$api")
  if ! out=$(timeout -k 5 120 "${LOAD_PIN[@]}" node "$HERE/ttfb.mjs" "${args[@]}" --api "$api" \
    --port "$(port_of "$1" "$2")" --path "$(path_for "$api")" --body "$(body_for "$api" "$2")" \
    --expect "$2" --n "$3" --warmup "$4" 2>&1); then
    check_alive
    die "$1 ($2): TTFB client failed: $out"
  fi
  echo "$out"
}
for target in "${TARGETS[@]}"; do
  for mode in "${MODES[@]}"; do
    ttfb "$target" "$mode" 3 0 >/dev/null
  done
done
note "preflight ok: all targets answer 200 with complete answers in json and stream mode"

# ---------------------------------------------------------------------------------------------
# Load runs.
declare -A RPS P50 P99 CPU HWM MOCKCPU BG REDISCPU

# wrk_run TARGET MODE CONNS SECONDS TAG: one checked wrk run; sets LAST_LINE (its BENCH line)
wrk_run() {
  local target=$1 mode=$2 conns=$3 secs=$4 tag=$5 api
  api=$(api_of "$target")
  wrk_checked "$TMP/wrk-$tag-$target-$mode-c$conns.txt" "$target $mode c=$conns" \
    "http://127.0.0.1:$(port_of "$target" "$mode")$(path_for "$api")" "$conns" "$secs" \
    "$(body_for "$api" "$mode")" "$([[ $mode == stream ]] && echo 1 || echo 0)" "$(headers_for "$api")"
}

# Warm every target and mode up (connection pools, allocators, page cache) before measuring.
for target in "${TARGETS[@]}"; do
  for mode in "${MODES[@]}"; do
    wrk_run "$target" "$mode" 16 1 warmup
  done
done
note "warmup done"

for mode in "${MODES[@]}"; do
  for conns in "${CONNS[@]}"; do
    for target in "${TARGETS[@]}"; do
      key="$target|$mode|$conns"
      read -r -a pids <<<"$(proxy_pids "$target")"
      before=0; ((${#pids[@]})) && before=$(cpu_ticks "${pids[@]}")
      mock_before=$(cpu_ticks "$MOCK_PID")
      redis_before=0; [[ -n "${REDIS_PID:-}" ]] && redis_before=$(cpu_ticks "$REDIS_PID")
      ours_before=$(cpu_ticks "${PIDS[@]}" "${CHILD_PIDS[@]}")
      shell_before=$(shell_child_ticks)
      busy_before=$(sys_busy_ticks)
      note "run: $target $mode c=$conns (${DURATION}s)"
      wrk_run "$target" "$mode" "$conns" "$DURATION" run
      busy_after=$(sys_busy_ticks)
      shell_after=$(shell_child_ticks)
      ours_after=$(cpu_ticks "${PIDS[@]}" "${CHILD_PIDS[@]}")
      after=0; ((${#pids[@]})) && after=$(cpu_ticks "${pids[@]}")
      mock_after=$(cpu_ticks "$MOCK_PID")
      redis_after=0; [[ -n "${REDIS_PID:-}" ]] && redis_after=$(cpu_ticks "$REDIS_PID")
      BG[$key]=$(awk -v b=$((busy_after - busy_before)) -v o=$((ours_after - ours_before + shell_after - shell_before)) \
        -v hz="$CLK_TCK" -v n="$NCPU" -v d="$DURATION" \
        'BEGIN { v = 100 * (b - o) / (d * hz * n); if (v < 0) v = 0; printf "%.0f", v }')
      req=$(field requests "$LAST_LINE")
      dur=$(field duration_us "$LAST_LINE")
      RPS[$key]=$(awk -v r="$req" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
      P50[$key]=$(awk -v v="$(field p50_us "$LAST_LINE")" 'BEGIN { printf "%.3f", v / 1000 }')
      P99[$key]=$(awk -v v="$(field p99_us "$LAST_LINE")" 'BEGIN { printf "%.3f", v / 1000 }')
      MOCKCPU[$key]=$(awk -v t=$((mock_after - mock_before)) -v hz="$CLK_TCK" -v r="$req" \
        'BEGIN { printf "%.1f", t / hz * 1e6 / r }')
      REDISCPU[$key]=$(awk -v t=$((redis_after - redis_before)) -v hz="$CLK_TCK" -v r="$req" \
        'BEGIN { printf "%.1f", t / hz * 1e6 / r }')
      if ((${#pids[@]})); then
        CPU[$key]=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v r="$req" \
          'BEGIN { printf "%.1f", t / hz * 1e6 / r }')
        HWM[$key]=$(kb_to_mb "$(status_kb "$(rss_pid "$target")" VmHWM)")
      fi
    done
  done
done

if ((LIMITS_ONLY)); then
  check_alive
  [[ -n "${SYR_PID:-}" ]] || die "--limits-only needs redis-server"
  echo
  echo "Switchyard limit stores ($BUILD_TYPE build): ${DURATION}s per run, wrk -t1, json @16; CPU = gateway (+ redis-server for sy-redis*), then split"
  printf '%-13s  %9s  %8s  %8s  %10s  %8s  %8s  %6s\n' target RPS "p50 ms" "p99 ms" "CPU us/req" gateway redis "bg CPU"
  for target in "${TARGETS[@]}"; do
    key="$target|json|16"
    redis_part=0.0; [[ $target == sy-redis* ]] && redis_part=${REDISCPU[$key]}
    gateway_part=$(awk -v a="${CPU[$key]}" -v b="$redis_part" 'BEGIN { printf "%.1f", a - b }')
    printf '%-13s  %9s  %8s  %8s  %10s  %8s  %8s  %6s\n' "$target" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" \
      "${CPU[$key]}" "$gateway_part" "$redis_part" "${BG[$key]}%"
  done
  for target in sy-redis sy-redis-sync; do
    diff=$(awk -v a="${CPU[$target|json|16]}" -v b="${CPU[sy-sqlite|json|16]}" 'BEGIN { printf "%+.1f", a - b }')
    result=$(awk -v v="$diff" 'BEGIN { print (v + 0 <= 15) ? "PASS" : "MISS" }')
    echo "$target - sy-sqlite CPU us/req json @16: $diff (target <= +15: $result)"
  done
  if command -v redis-cli >/dev/null; then  # redis-server's own time per script call (all runs)
    echo "redis-server: $(redis-cli -p "$REDIS_PORT" INFO commandstats | tr -d '\r' | grep -E '^cmdstat_(evalsha|eval):' | tr '\n' ' ')"
  fi
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Time to first byte of streams (sequential requests on one keep-alive connection).
declare -A TTFB_MED TTFB_P99
for target in "${TARGETS[@]}"; do
  note "ttfb: $target ($TTFB_N requests after $TTFB_WARMUP warmup)"
  line=$(ttfb "$target" stream "$TTFB_N" "$TTFB_WARMUP")
  TTFB_MED[$target]=$(awk -v v="$(field median_us "$line")" 'BEGIN { printf "%.3f", v / 1000 }')
  TTFB_P99[$target]=$(awk -v v="$(field p99_us "$line")" 'BEGIN { printf "%.3f", v / 1000 }')
done
check_alive
if ((SHADOW_ONLY)); then
  echo
  echo "Switchyard shadow mode ($BUILD_TYPE build): ${DURATION}s per run, wrk -t1, @16; CPU = gateway"
  printf '%-12s  %-6s  %9s  %8s  %8s  %10s  %6s\n' target mode RPS "p50 ms" "p99 ms" "CPU us/req" "bg CPU"
  for target in "${TARGETS[@]}"; do
    for mode in "${MODES[@]}"; do
      key="$target|$mode|16"
      printf '%-12s  %-6s  %9s  %8s  %8s  %10s  %6s\n' "$target" "$mode" "${RPS[$key]}" "${P50[$key]}" \
        "${P99[$key]}" "${CPU[$key]}" "${BG[$key]}%"
    done
  done
  for mode in "${MODES[@]}"; do
    echo "shadow CPU us/req $mode @16: $(awk -v a="${CPU[sy-shadow|$mode|16]}" -v b="${CPU[switchyard|$mode|16]}" 'BEGIN { printf "%+.1f", a - b }') (sy-shadow - switchyard)"
  done
  echo "stream TTFB median ms: switchyard ${TTFB_MED[switchyard]}, sy-shadow ${TTFB_MED[sy-shadow]}; p99 ms: ${TTFB_P99[switchyard]}, ${TTFB_P99[sy-shadow]}"
  exit 0
fi
# What the Responses surface costs: CPU per request of a target minus sy-nodlp's (the same request
# on chat completions), json and stream, and the stream difference per content event.
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }
per_event() { awk -v d="$1" -v n="$REPLY_TOKENS" 'BEGIN { printf "%+.2f", d / n }'; }
responses_rows() {  # responses_rows CONNS: one line per Responses target and figure
  local t what tj ts
  for t in sy-responses sy-resp-pass; do
    [[ $t == sy-responses ]] && what="Responses translated to chat" || what="Responses passthrough"
    tj=$(sub "${CPU[$t|json|$1]}" "${CPU[sy-nodlp|json|$1]}"); ts=$(sub "${CPU[$t|stream|$1]}" "${CPU[sy-nodlp|stream|$1]}")
    row "$what CPU us/req json @$1" "$tj" "-" "-" "($t - sy-nodlp)"
    row "$what CPU us/req stream @$1" "$ts" "-" "-" "($t - sy-nodlp)"
    row "$what CPU us/event stream @$1" "$(per_event "$ts")" "-" "-" "(stream difference / $REPLY_TOKENS content events)"
  done
}
row() { printf '%-45s  %14s  %14s  %10s  %s\n' "$@"; }
if ((RESPONSES_ONLY)); then
  echo
  echo "Switchyard Responses surface ($BUILD_TYPE build): ${DURATION}s per run, wrk -t1, @16; CPU = proxy"
  printf '%-12s  %-6s  %9s  %8s  %8s  %10s  %6s\n' target mode RPS "p50 ms" "p99 ms" "CPU us/req" "bg CPU"
  for target in "${TARGETS[@]}"; do
    for mode in "${MODES[@]}"; do
      key="$target|$mode|16"
      printf '%-12s  %-6s  %9s  %8s  %8s  %10s  %6s\n' "$target" "$mode" "${RPS[$key]}" "${P50[$key]}" \
        "${P99[$key]}" "${CPU[$key]:--}" "${BG[$key]}%"
    done
  done
  echo
  responses_rows 16
  echo "(stream: the chat rows have $((REPLY_TOKENS + 3)) SSE events per request; the Responses rows answer $((REPLY_TOKENS + 8))"
  echo " (response.created, in_progress, output_item.added, content_part.added, $REPLY_TOKENS output_text deltas,"
  echo " output_text.done, content_part.done, output_item.done, response.completed); wrk latency is full-response time)"
  echo
  printf '%-12s  %14s  %14s  %14s\n' "TTFB" "median ms" "p99 ms" "+median ms"
  for target in "${TARGETS[@]}"; do
    if [[ $target == direct ]]; then added="-"; else added=$(sub "${TTFB_MED[$target]}" "${TTFB_MED[direct]}"); fi
    printf '%-12s  %14s  %14s  %14s\n' "$target" "${TTFB_MED[$target]}" "${TTFB_P99[$target]}" "$added"
  done
  exit 0
fi
SY_END_HWM_KB=$(status_kb "$SY_PID" VmHWM)
SY_END_RSS_KB=$(status_kb "$SY_PID" VmRSS)

# ---------------------------------------------------------------------------------------------
# Report.

echo
echo "Switchyard proxy overhead ($BUILD_TYPE build): ${DURATION}s per run, wrk -t1, ~1 KB chat request, mock --threads 1 --reply-tokens 20"
echo "Pinning: $([[ $PINNED == 1 ]] && echo 'proxy on cpu0; wrk, mock and TTFB client on cpu1' || echo 'NONE (fewer than 2 CPUs)'); $(nproc) CPUs visible; loopback"
echo
printf '%-12s  %-6s  %5s  %9s  %8s  %8s  %10s  %10s  %9s  %6s\n' \
  target mode conns RPS "p50 ms" "p99 ms" "+p99 ms" "CPU us/req" "peak RSS" "bg CPU"
printf '%-12s  %-6s  %5s  %9s  %8s  %8s  %10s  %10s  %9s  %6s\n' \
  ------------ ------ ----- --------- -------- -------- ---------- ---------- --------- ------
for mode in "${MODES[@]}"; do
  for conns in "${CONNS[@]}"; do
    for target in "${TARGETS[@]}"; do
      key="$target|$mode|$conns"
      d="direct|$mode|$conns"
      if [[ $target == direct ]]; then
        added="-"; cpu="-"; hwm="-"
      else
        added=$(sub "${P99[$key]}" "${P99[$d]}")
        cpu=${CPU[$key]}
        hwm="${HWM[$key]} MB"
      fi
      printf '%-12s  %-6s  %5s  %9s  %8s  %8s  %10s  %10s  %9s  %6s\n' \
        "$target" "$mode" "$conns" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "$added" "$cpu" "$hwm" "${BG[$key]}%"
    done
  done
done
bg_max=0
for key in "${!BG[@]}"; do ((BG[$key] > bg_max)) && bg_max=${BG[$key]}; done
echo "bg CPU = CPU used by other processes during the run, % of all $NCPU CPUs (before start: ${IDLE_BUSY}%)"
if ((bg_max > 5 || IDLE_BUSY > 10)); then
  echo "WARNING: the machine was not idle (up to ${bg_max}% CPU used by other processes during a run); figures are noisy, rerun on a quiet machine"
fi
echo
printf '%-12s  %14s  %14s  %14s\n' "TTFB" "median ms" "p99 ms" "+median ms"
for target in "${TARGETS[@]}"; do
  if [[ $target == direct ]]; then added="-"; else added=$(sub "${TTFB_MED[$target]}" "${TTFB_MED[direct]}"); fi
  printf '%-12s  %14s  %14s  %14s\n' "$target" "${TTFB_MED[$target]}" "${TTFB_P99[$target]}" "$added"
done
echo
echo "switchyard RSS: idle before load $(kb_to_mb "$SY_IDLE_KB") MB; peak $(kb_to_mb "$SY_END_HWM_KB") MB; after the runs $(kb_to_mb "$SY_END_RSS_KB") MB"
echo "mock CPU per request (direct runs, same core as wrk): json @16 ${MOCKCPU[direct|json|16]} us, stream @16 ${MOCKCPU[direct|stream|16]} us"

# Summary: switchyard vs nginx at 16 connections, against the targets.
j="json|16"; s="stream|16"
verdict() { awk -v v="$1" -v lim="$2" -v op="$3" 'BEGIN { v += 0; lim += 0; ok = (op == "ge") ? (v >= lim) : (v <= lim); print ok ? "PASS" : "MISS" }'; }
ratio=$(awk -v a="${RPS[switchyard|$j]}" -v b="${RPS[nginx|$j]}" 'BEGIN { printf "%.1f", 100 * a / b }')
sy_add_j=$(sub "${P99[switchyard|$j]}" "${P99[direct|$j]}"); ng_add_j=$(sub "${P99[nginx|$j]}" "${P99[direct|$j]}")
sy_add_s=$(sub "${P99[switchyard|$s]}" "${P99[direct|$s]}"); ng_add_s=$(sub "${P99[nginx|$s]}" "${P99[direct|$s]}")
sy_ttfb=$(sub "${TTFB_MED[switchyard]}" "${TTFB_MED[direct]}"); ng_ttfb=$(sub "${TTFB_MED[nginx]}" "${TTFB_MED[direct]}")
sy_idle=$(kb_to_mb "$SY_IDLE_KB"); sy_peak=$(kb_to_mb "$SY_END_HWM_KB")
ng_peak=$(kb_to_mb "$(status_kb "$NGX_WORKER" VmHWM)")

echo
echo "Summary: switchyard vs nginx (targets apply to switchyard; PASS/MISS is informational)"
printf '%-45s  %14s  %14s  %10s  %s\n' metric switchyard nginx target result
printf '%-45s  %14s  %14s  %10s  %s\n' --------------------------------------------- -------------- -------------- ---------- ------
row "RPS json @16 (sy/nginx ${ratio}%)" "${RPS[switchyard|$j]}" "${RPS[nginx|$j]}" ">= 90%" "$(verdict "$ratio" 90 ge)"
row "CPU us/req json @16" "${CPU[switchyard|$j]}" "${CPU[nginx|$j]}" "<= 40" "$(verdict "${CPU[switchyard|$j]}" 40 le)"
row "CPU us/req stream @16" "${CPU[switchyard|$s]}" "${CPU[nginx|$s]}" "-" "(info)"
dlp_j=$(sub "${CPU[switchyard|$j]}" "${CPU[sy-nodlp|$j]}"); dlp_s=$(sub "${CPU[switchyard|$s]}" "${CPU[sy-nodlp|$s]}")
row "DLP CPU us/req json @16" "$dlp_j" "-" "-" "(switchyard - sy-nodlp)"
row "DLP CPU us/req stream @16" "$dlp_s" "-" "-" "(switchyard - sy-nodlp)"
row "full gateway CPU us/req json @16" "$(sub "${CPU[sy-full|$j]}" "${CPU[sy-nodlp|$j]}")" "-" "-" "(sy-full - sy-nodlp: DLP, classification, routing, audit fsync)"
row "shadow CPU us/req json @16" "$(sub "${CPU[sy-shadow|$j]}" "${CPU[switchyard|$j]}")" "-" "-" "(sy-shadow - switchyard: the candidate's and the active dry runs)"
row "limits (SQLite) CPU us/req json @16" "$(sub "${CPU[sy-sqlite|$j]}" "${CPU[sy-nodlp|$j]}")" "-" "-" "(sy-sqlite - sy-nodlp)"
if [[ -n "${SYR_PID:-}" ]]; then
  row "limits (Redis) CPU us/req json @16" "$(sub "${CPU[sy-redis|$j]}" "${CPU[sy-nodlp|$j]}")" "-" "-" "(sy-redis - sy-nodlp; gateway + redis-server CPU)"
  row "limits (Redis, sync) CPU us/req json @16" "$(sub "${CPU[sy-redis-sync|$j]}" "${CPU[sy-nodlp|$j]}")" "-" "-" "(sy-redis-sync - sy-nodlp; gateway + redis-server CPU)"
fi
row "added p99 ms json @16" "$sy_add_j" "$ng_add_j" "<= 0.3" "$(verdict "$sy_add_j" 0.3 le)"
row "added p99 ms stream @16" "$sy_add_s" "$ng_add_s" "-" "(info)"
row "TTFB added ms (median)" "$sy_ttfb" "$ng_ttfb" "<= 0.1" "$(verdict "$sy_ttfb" 0.1 le)"
row "RSS idle MB (before load)" "$sy_idle" "-" "<= 30" "$(verdict "$sy_idle" 30 le)"
row "RSS under load MB (peak, VmHWM)" "$sy_peak" "$ng_peak" "<= 100" "$(verdict "$sy_peak" 100 le)"
# Translation costs: CPU per request of a target minus sy-nodlp's, json and stream, and the stream
# difference per content event (the mock's REPLY_TOKENS content chunks or text deltas).
for t in sy-messages sy-anthropic sy-passthrough; do
  case $t in
    sy-messages) what="Anthropic inbound" ;;
    sy-anthropic) what="Anthropic backend" ;;
    *) what="Anthropic passthrough" ;;
  esac
  tj=$(sub "${CPU[$t|$j]}" "${CPU[sy-nodlp|$j]}"); ts=$(sub "${CPU[$t|$s]}" "${CPU[sy-nodlp|$s]}")
  row "$what CPU us/req json @16" "$tj" "-" "-" "($t - sy-nodlp)"
  row "$what CPU us/req stream @16" "$ts" "-" "-" "($t - sy-nodlp)"
  row "$what CPU us/event stream @16" "$(per_event "$ts")" "-" "-" "(stream difference / $REPLY_TOKENS content events)"
done
responses_rows 16
echo "(stream: $((REPLY_TOKENS + 3)) SSE events per request (role + $REPLY_TOKENS content + finish chunk, [DONE]); sy-messages and sy-passthrough answer"
echo " Anthropic's $((REPLY_TOKENS + 6)) (message_start, content_block_start, ping, $REPLY_TOKENS text deltas, content_block_stop,"
echo " message_delta, message_stop); wrk latency is full-response time)"
