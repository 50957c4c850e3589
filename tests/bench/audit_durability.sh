#!/usr/bin/env bash
# Audit durability benchmark: throughput and cost of the audit log with `durability: fsync` vs
# `durability: batch` vs no audit log, in one run against the same upstream.
#
# One switchyard-mock upstream, three switchyard instances that differ only in their `audit:`
# section:
#   audit-off    no audit section
#   audit-batch  audit: {path: DIR/batch/audit.jsonl, durability: batch}
#   audit-fsync  audit: {path: DIR/fsync/audit.jsonl, durability: fsync}
# The backend is `location: external`: only then does a request wait for its decision record to
# be fdatasync'ed before it is forwarded (fsync mode; for self-hosted backends the record is
# queued and the request goes on). wrk loads each instance with the ~1 KB chat request
# (chat_request.json, non-streaming) at 16 and 64 connections; the table shows RPS, latency, the
# gateway's CPU per request, and from its /metrics the audit records and fdatasync calls per
# second and records per fsync (group commit: one fdatasync serves every record queued meanwhile).
#
# The audit files go to a real disk, not tmpfs (where fdatasync costs nothing): by default a
# fresh directory under the build dir (--audit-dir to choose); the script warns if it is tmpfs.
# Pinning as in proxy_overhead.sh: the gateway on CPU 0, wrk and the mock on CPU 1. Everything
# listens on 127.0.0.1 only; every process started here is stopped on exit.
#
# usage: tests/bench/audit_durability.sh [--build-dir DIR] [--duration SECONDS] [--audit-dir DIR]
#   --build-dir DIR   where switchyard and switchyard-mock were built (default: <repo>/build)
#   --duration S      seconds per wrk run (default 5; 6 runs plus warmups: ~40 s at the default)
#   --audit-dir DIR   where the audit files go (default: a new directory under the build dir,
#                     removed on exit unless BENCH_KEEP_TMP=1)
# Exit status: 0 when every step ran cleanly; 1 when a step failed (a binary or tool is missing,
# a process died, wrk saw socket errors or non-2xx responses, audit verify failed).
# Env: BENCH_KEEP_TMP=1 keeps the temp dir and the audit files for inspection.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

BUILD_DIR="$REPO/build"
DURATION=5
AUDIT_PARENT=""
CONNS=(16 64)
TARGETS=(audit-off audit-batch audit-fsync)

BENCH_NAME=audit_durability
source "$HERE/lib.sh"

while (($#)); do
  case "$1" in
    --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a value"; BUILD_DIR=$2; shift 2 ;;
    --build-dir=*) BUILD_DIR=${1#*=}; shift ;;
    --duration) [[ $# -ge 2 ]] || die "--duration needs a value"; DURATION=$2; shift 2 ;;
    --duration=*) DURATION=${1#*=}; shift ;;
    --audit-dir) [[ $# -ge 2 ]] || die "--audit-dir needs a value"; AUDIT_PARENT=$2; shift 2 ;;
    --audit-dir=*) AUDIT_PARENT=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive integer (seconds)"
((DURATION <= 20)) || die "--duration at most 20 (the whole run stays under 3 minutes)"

# ---------------------------------------------------------------------------------------------
# Prerequisites.
bench_require_build "pass --build-dir"
bench_require wrk taskset curl awk getconf timeout stat -- chat.lua chat_request.json
bench_pin

# ---------------------------------------------------------------------------------------------
# Temp dirs and process bookkeeping: every process started here is stopped on exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sy-audit-bench.XXXXXX")
# A fresh directory either way (removed on exit): under the build dir by default.
[[ -n "$AUDIT_PARENT" ]] || AUDIT_PARENT=$BUILD_DIR
mkdir -p "$AUDIT_PARENT"
AUDIT_DIR=$(mktemp -d "$(cd "$AUDIT_PARENT" && pwd)/audit-bench.XXXXXX")
bench_trap "$TMP" "$AUDIT_DIR"

FS_TYPE=$(df -PT "$AUDIT_DIR" 2>/dev/null | awk 'NR == 2 { print $2 }')
[[ -n "$FS_TYPE" ]] || FS_TYPE=$(stat -f -c %T "$AUDIT_DIR")
FS_DEV=$(df -P "$AUDIT_DIR" | awk 'NR == 2 { print $1 }')
if [[ "$FS_TYPE" == tmpfs || "$FS_TYPE" == ramfs ]]; then
  note "WARNING: $AUDIT_DIR is on $FS_TYPE: fdatasync is free there, so fsync mode looks like batch mode; pass --audit-dir on a real disk"
fi

metric() {  # metric ADMIN_PORT NAME: the unlabelled sample NAME from /metrics (0 if absent)
  local text
  text=$(curl -sS --noproxy '*' --max-time 5 "http://127.0.0.1:$1/metrics") ||
    die "could not read http://127.0.0.1:$1/metrics"
  awk -v n="$2" '$1 == n && !found { print $2; found = 1 } END { if (!found) print 0 }' <<<"$text"
}

# ---------------------------------------------------------------------------------------------
# The upstream and the three gateways.
BODY="$TMP/body.json"
tr -d '\n' <"$HERE/chat_request.json" >"$BODY"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l + 0 > 1.5) }' &&
  note "WARNING: load average $LOAD_BEFORE: the machine is busy, figures will be noisy"
note "build dir: $BUILD_DIR ($BUILD_TYPE); ${DURATION}s per run; conns: ${CONNS[*]}; audit files in $AUDIT_DIR ($FS_TYPE on $FS_DEV); loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
pick_port; MOCK_PORT=$PICKED
"${LOAD_PIN[@]}" "$MOCK_BIN" --host 127.0.0.1 --port "$MOCK_PORT" --name bench --threads 1 \
  --reply-tokens 20 >"$TMP/mock.out" 2>"$TMP/mock.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
wait_for_line "$TMP/mock.out" '"msg":"listening"' "$MOCK_PID" "switchyard-mock"

declare -A PID_OF PORT_OF ADMIN_OF AUDIT_OF
start_switchyard() {  # start_switchyard TARGET DURABILITY|off
  local target=$1 durability=$2 dir="$TMP/$1" port admin audit_yaml=""
  mkdir -p "$dir"
  pick_port; port=$PICKED
  pick_port; admin=$PICKED
  if [[ $durability != off ]]; then
    mkdir -p "$AUDIT_DIR/$durability"
    AUDIT_OF[$target]="$AUDIT_DIR/$durability/audit.jsonl"
    audit_yaml="audit:
  path: ${AUDIT_OF[$target]}
  durability: $durability"
  fi
  cat >"$dir/switchyard.yaml" <<EOF
# Generated by tests/bench/audit_durability.sh.
server:
  listen: 127.0.0.1:$port
  workers: 1
admin:
  listen: 127.0.0.1:$admin
auth:
  anonymous: true
backends:
  - name: mock
    kind: openai
    url: http://127.0.0.1:$MOCK_PORT
    model: bench-model
    location: external
tiers:
  default:
    backends: [mock]
dlp: {default_pack: false}
$audit_yaml
EOF
  "${PROXY_PIN[@]}" "$SY_BIN" serve --config "$dir/switchyard.yaml" >"$dir/stdout.log" 2>"$dir/stderr.log" &
  PID_OF[$target]=$!
  PIDS+=("${PID_OF[$target]}")
  wait_for_line "$dir/stderr.log" '"msg":"listening".*"listener":"admin"' "${PID_OF[$target]}" "switchyard ($target)"
  wait_for_line "$dir/stderr.log" '"msg":"listening".*"listener":"data"' "${PID_OF[$target]}" "switchyard ($target)"
  PORT_OF[$target]=$port
  ADMIN_OF[$target]=$admin
}
start_switchyard audit-off off
start_switchyard audit-batch batch
start_switchyard audit-fsync fsync
note "mock pid $MOCK_PID; gateways: off ${PID_OF[audit-off]}, batch ${PID_OF[audit-batch]}, fsync ${PID_OF[audit-fsync]}"

check_alive() {
  local t
  alive "$MOCK_PID" || { show_log "$TMP/mock.err"; die "switchyard-mock died"; }
  for t in "${TARGETS[@]}"; do
    alive "${PID_OF[$t]}" || { show_log "$TMP/$t/stderr.log"; die "switchyard ($t) died"; }
  done
}

wrk_run() {  # wrk_run TARGET CONNS SECONDS TAG: one checked wrk run; sets LAST_LINE
  local target=$1 conns=$2 secs=$3 tag=$4
  wrk_checked "$TMP/wrk-$tag-$target-c$conns.txt" "$target c=$conns" \
    "http://127.0.0.1:${PORT_OF[$target]}/v1/chat/completions" "$conns" "$secs" "$BODY" 0
}

for target in "${TARGETS[@]}"; do
  wrk_run "$target" 16 1 warmup
done
note "warmup done"

# ---------------------------------------------------------------------------------------------
# Load runs: for each connection count, the three targets back to back.
declare -A RPS P50 P99 CPU RECS FSYNCS PER_FSYNC LAST_FSYNC
for conns in "${CONNS[@]}"; do
  for target in "${TARGETS[@]}"; do
    key="$target|$conns"
    admin=${ADMIN_OF[$target]}
    recs0=$(metric "$admin" switchyard_audit_records_total)
    syncs0=$(metric "$admin" switchyard_audit_fsyncs_total)
    cpu0=$(cpu_ticks "${PID_OF[$target]}")
    note "run: $target c=$conns (${DURATION}s)"
    wrk_run "$target" "$conns" "$DURATION" run
    cpu1=$(cpu_ticks "${PID_OF[$target]}")
    recs1=$(metric "$admin" switchyard_audit_records_total)
    syncs1=$(metric "$admin" switchyard_audit_fsyncs_total)
    LAST_FSYNC[$key]=$(metric "$admin" switchyard_audit_last_fsync_seconds)
    req=$(field requests "$LAST_LINE")
    dur=$(field duration_us "$LAST_LINE")
    RPS[$key]=$(awk -v r="$req" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
    P50[$key]=$(awk -v v="$(field p50_us "$LAST_LINE")" 'BEGIN { printf "%.3f", v / 1000 }')
    P99[$key]=$(awk -v v="$(field p99_us "$LAST_LINE")" 'BEGIN { printf "%.3f", v / 1000 }')
    CPU[$key]=$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v r="$req" 'BEGIN { printf "%.1f", t / hz * 1e6 / r }')
    # The counters are read just before and after wrk; the few ms around the run are included.
    RECS[$key]=$(awk -v a="$recs0" -v b="$recs1" -v d="$dur" 'BEGIN { printf "%.0f", (b - a) / (d / 1e6) }')
    FSYNCS[$key]=$(awk -v a="$syncs0" -v b="$syncs1" -v d="$dur" 'BEGIN { printf "%.1f", (b - a) / (d / 1e6) }')
    PER_FSYNC[$key]=$(awk -v r0="$recs0" -v r1="$recs1" -v s0="$syncs0" -v s1="$syncs1" \
      'BEGIN { s = s1 - s0; if (s > 0) printf "%.1f", (r1 - r0) / s; else print "-" }')
  done
done

# Each audit file must verify (and hold 2 records per request: decision + completion).
declare -A VERIFIED
for target in audit-batch audit-fsync; do
  out=$("$SY_BIN" audit verify "${AUDIT_OF[$target]}" 2>"$TMP/verify-$target.err") ||
    { cat "$TMP/verify-$target.err" >&2; die "audit verify failed for $target: $out"; }
  VERIFIED[$target]=$(awk '/^ok:/ { print $2 }' <<<"$out")
done

# ---------------------------------------------------------------------------------------------
# Report (markdown).
echo
echo "Audit durability ($BUILD_TYPE build): ${DURATION}s per run, wrk -t1, ~1 KB chat request (non-streaming), mock --threads 1 --reply-tokens 20"
echo "Gateway: workers: 1, no DLP, anonymous, one backend with location: external (so fsync mode waits for the decision record's fdatasync before forwarding)."
echo "Load average before the runs: $LOAD_BEFORE$(awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { if (l + 0 > 1.5) print " (WARNING: the machine was busy; figures are noisy)" }')"
echo "Pinning: $([[ $PINNED == 1 ]] && echo 'gateway on cpu0; wrk and mock on cpu1' || echo 'none'); $(nproc) CPUs; loopback. Audit files: $AUDIT_DIR ($FS_TYPE on $FS_DEV)."
echo
echo "| target | conns | RPS | p50 ms | p99 ms | CPU µs/req | records/s | fsyncs/s | records/fsync | last fsync ms |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for conns in "${CONNS[@]}"; do
  for target in "${TARGETS[@]}"; do
    key="$target|$conns"
    if [[ $target == audit-off ]]; then
      recs="-"; syncs="-"; per="-"; last="-"
    else
      recs=${RECS[$key]}; syncs=${FSYNCS[$key]}; per=${PER_FSYNC[$key]}
      last=$(awk -v s="${LAST_FSYNC[$key]}" 'BEGIN { printf "%.3f", s * 1000 }')
    fi
    echo "| $target | $conns | ${RPS[$key]} | ${P50[$key]} | ${P99[$key]} | ${CPU[$key]} | $recs | $syncs | $per | $last |"
  done
done
echo
for conns in "${CONNS[@]}"; do
  off=${RPS[audit-off|$conns]}
  echo "at $conns connections: batch $(awk -v a="${RPS[audit-batch|$conns]}" -v b="$off" 'BEGIN { printf "%.1f", 100 * a / b }')% and fsync $(awk -v a="${RPS[audit-fsync|$conns]}" -v b="$off" 'BEGIN { printf "%.1f", 100 * a / b }')% of the audit-off throughput; CPU +$(awk -v a="${CPU[audit-batch|$conns]}" -v b="${CPU[audit-off|$conns]}" 'BEGIN { printf "%.1f", a - b }') µs (batch), +$(awk -v a="${CPU[audit-fsync|$conns]}" -v b="${CPU[audit-off|$conns]}" 'BEGIN { printf "%.1f", a - b }') µs (fsync) per request"
done
echo "audit verify: batch ok (${VERIFIED[audit-batch]} records), fsync ok (${VERIFIED[audit-fsync]} records); 2 records per request (decision + completion)."
echo "records/s and fsyncs/s: deltas of switchyard_audit_records_total / switchyard_audit_fsyncs_total over the wrk run; batch mode syncs at most once a second."
